/**
 * Every bound in one place, with load-time cross-checks. A full queue answers `overloaded`;
 * nothing grows without bound.
 * @module
 */
import { assert } from './assert.js'

const KiB = 1024
const MiB = 1024 * KiB

export const limits = Object.freeze({
  nodesMax: 7,
  /** A member's URL in a configuration entry, in bytes. */
  memberUrlBytesMax: 256,
  keyBytesMax: 1 * KiB,
  valueBytesMax: 1 * MiB,
  idempotencyKeyBytesMax: 256,
  /** Commands waiting for a slot on the leader before `propose` answers `overloaded`. */
  queuedCommandsMax: 8192,
  /** Slots proposed but not yet chosen (the pipeline window). */
  pipelineSlotsMax: 64,
  /** Commands in one slot. */
  batchCommandsMax: 256,
  /** Encoded bytes of one slot's value (base64 inflates raw values by 4/3). */
  batchBytesMax: 1.5 * MiB,
  /** Linearizable reads waiting on the leader. */
  pendingReadsMax: 8192,
  /** Slots sent in one catch-up reply. */
  catchUpSlotsMax: 256,
  /** Catch-up requests a learner keeps in flight (pipelined chunks of catchUpSlotsMax slots). */
  catchUpRequestsMax: 4,
  /** Committed slots handed to the state machine in one Ready. */
  applySlotsMax: 1024,
  /** Slots reported in one promise page (it is also cut by bytes). */
  promisePageSlotsMax: 256,
  /**
   * Estimated encoded bytes of one peer message (see message-size.ts): promise pages, accept
   * batches and catch-up replies are cut here. One maximal slot always fits.
   */
  messageBytesMax: 4 * MiB,
  /** Estimated bytes of the values a leader has proposed and not yet seen chosen. */
  pipelineBytesMax: 16 * MiB,
  /** Estimated bytes of the commands waiting for a slot on the leader before `overloaded`. */
  queuedBytesMax: 128 * MiB,
  /** Envelopes queued per peer in the transport before the oldest are dropped. */
  outboxEnvelopesMax: 4096,
  /** Envelopes waiting in the node's inbox before the peer route answers 503. */
  inboxEnvelopesMax: 16384,
  /**
   * Bytes of one peer frame (a stream frame or a POST /peer/messages body). The sender packs
   * messages into frames up to this, the receiver refuses anything longer: one number, so the
   * two sides cannot disagree.
   */
  peerFrameBytesMax: 8 * MiB,
  /** Bytes written to a peer stream and not yet taken by the peer; past this, frames drop. */
  peerBufferedBytesMax: 32 * MiB,
  heartbeatTicks: 3,
  /** A follower that hears no leader for this long (jittered up to twice it) starts a pre-vote. */
  electionTimeoutTicks: 15,
  /**
   * A leader that has not heard from a quorum for this long steps down. No shorter than the
   * longest jittered election timeout: a leader must not give up on followers that are only
   * slow (a turn with several MiB of accepts to parse and fsync) before any of them would.
   */
  checkQuorumTicks: 30,
  /**
   * Ticks one turn of the event loop may take, however long the turn before it lasted. A node
   * whose own turn stalled (GC, a large fsync) must not count its stall as its peers' silence;
   * like Go's time.Ticker under a slow receiver, the ticks it missed are dropped, not owed.
   */
  ticksPerTurnMax: 2,
  /** A leader re-sends unanswered accepts and prepares this often. */
  retryTicks: 6,
  /** A learner asks again for a snapshot it lacks after this many ticks without one. */
  snapshotFetchTicks: 100,
  /** A follower asks for missing chosen slots at most this often. */
  catchUpTicks: 4,
  /**
   * Idempotency-Key records: each is kept at least `idempotencyRetentionMs` of log time. At the
   * bound, with every record younger than that, a new keyed write is refused (503 overloaded)
   * rather than evict a record a retry may still need: 1M records over 10 minutes is ~1.6k
   * keyed writes/s sustained.
   */
  idempotencyRecordsMax: 1_000_000,
  idempotencyRetentionMs: 10 * 60_000,
  /** Internal request ids (see `forwardWindowMs`); same rule, ~8k forwarded writes/s sustained. */
  requestRecordsMax: 1_000_000,
  requestIdBytesMax: 128,
  /**
   * A write is forwarded, retried and proposed only within this long after the first node
   * received it; its request-id record outlives that window by three times the clock skew
   * allowed between members (see the check below), so every copy of it finds the record.
   */
  forwardWindowMs: 30_000,
  requestRecordRetentionMs: 120_000,
  /** How far the members' wall clocks may disagree for request-id records to hold (README). */
  clockSkewMsMax: 30_000,
  readyTurnsMax: 64,
  /** Recent slots whose timings a node keeps for consensus receipts (headers of a write). */
  receiptSlotsMax: 1024,
  /** The live feed (/v1/events): one frame of node state this often, whatever the load. */
  liveFrameMs: 250,
  /** Live-feed subscribers per node; one more is refused (503). */
  liveSubscribersMax: 32,
  /** Frames queued for one subscriber; a subscriber this far behind is cut off. */
  liveQueueFramesMax: 16,
  /** Recent slots in each frame (the page's slot grid). */
  liveSlotsMax: 64,
  /** Role changes kept between two frames (the rest are counted, not listed). */
  liveElectionsMax: 32,
  /** Commit latencies sampled per frame for the page's latency chart. */
  liveLatencySamplesMax: 512,
  /** Step-through mode: outgoing messages held at once; past it, matching messages are dropped and counted. */
  heldMessagesMax: 1024,
  /** Items in one listing page (`GET /v1/kv?limit=`), and items one txn may read (gets and list limits). */
  listItemsMax: 1000,
  /** Compares and ops of one txn, both branches counted (413 past it). */
  txnPartsMax: 128,
  /**
   * Bytes of a POST /v1/txn body (413 past it): one maximal value in base64 and room for the
   * rest. The txn as a command must also fit one slot (commandBytesMax), checked once parsed.
   */
  txnBodyBytesMax: 2 * MiB,
  /**
   * The change history watch serves from (`--history-revisions`): revisions kept, and their
   * bytes (keys and values); the oldest go first past either bound.
   */
  historyRevisions: 10_000,
  historyBytesMax: 64 * MiB,
  /** Leases held at once; a grant past it is refused (503 overloaded). */
  leasesMax: 100_000,
  /** Keys attached to one lease; a put past it is refused (503 overloaded). */
  keysPerLeaseMax: 10_000,
  /** A lease's TTL, in seconds (api.md: 1..86400). */
  leaseTtlSecondsMax: 86_400,
  /** Watch streams one node serves at once; one more is refused (503 overloaded). */
  watchersMax: 1024,
  /** A watch stream with nothing to send says so this often (api.md's progressMs default). */
  watchProgressMs: 5000,
  /** Revisions a watch stream reads from the history at a time. */
  watchReadRevisionsMax: 8,
  /**
   * A watch stream that is behind takes events into one socket write until they pass this
   * (a single event larger than it still goes alone): fewer writes for a lagging watcher.
   */
  watchChunkBytesTarget: 64 * 1024,
  /** Applied slots kept in memory (older ones are read from the archive when needed). */
  logRetainSlots: 4096,
  /** Bytes of one snapshot chunk: the unit of encoding, writing, reading and (later) sending. */
  snapshotChunkBytesMax: 2 * MiB,
  /**
   * A chunk closes once the next entry would take it past this (an entry larger than this gets
   * a chunk of its own, up to the max). The snapshot writer encodes one chunk per event-loop
   * turn, so this bounds how long a snapshot stalls a turn: full 2 MiB chunks of 100-byte values
   * took 80 to 230 ms each with 1M keys on a loaded 2-core machine, past a 150 ms election timeout.
   */
  snapshotChunkBytesTarget: 256 * KiB,
  /**
   * A node writes a snapshot after this many applied slots (`--snapshot-every-slots`), or after
   * the writes or bytes below, whichever comes first: a restart replays what came after the
   * newest snapshot, and a slot can carry anything from one write to a batch of 256.
   */
  snapshotEverySlots: 10_000,
  /**
   * Applied writes (commands) after which a node writes a snapshot (`--snapshot-every-writes`):
   * the bound on a restart's replay. At 1M live keys a snapshot takes seconds to write and costs
   * throughput while it runs, so not much fewer (etcd's --snapshot-count is 100,000).
   */
  snapshotEveryWrites: 50_000,
  /**
   * Estimated bytes of applied commands after which a node writes a snapshot
   * (`--snapshot-every-bytes`): the bound on the log a restart reads and decodes when values are
   * large (a write of 1 MiB counts as its base64, about 1.4 MiB).
   */
  snapshotEveryBytes: 256 * MiB,
  /**
   * Chosen slots the log store keeps behind the newest durable snapshot (`--log-retain-slots`):
   * a follower that far behind still catches up from the log, not with a whole snapshot.
   */
  logTailRetainSlots: 5_000,
  /** Snapshots kept on disk: the newest, and the one before it in case the newest is damaged. */
  snapshotsRetained: 2,
  /** Live data (keys, values, records) past which puts answer quota_exceeded (`--quota-bytes`). */
  quotaBytes: 2 * 1024 * MiB,
  /**
   * Bytes of one etcd gRPC request message: a maximal key and value with room for the other
   * fields. A larger one is refused by gRPC before it is decoded.
   */
  etcdRequestBytesMax: 1 * MiB + 4 * KiB,
  /** One client header block on the etcd port, as its authority repair gathers it (src/server/etcd/authority-repair.ts). */
  etcdHeaderBlockBytesMax: 64 * KiB,
  /** Bytes read from a new etcd-port connection before its first request is looked at; past it, it goes to gRPC as it is. */
  etcdConnectionStartBytesMax: 256 * KiB,
  /** A new etcd-port connection that does not acknowledge the server's settings this long is closed. */
  etcdConnectionStartMs: 10_000,
  /** A new etcd-port connection with no request this long after its acknowledgement goes to gRPC unread. */
  etcdConnectionIdleMs: 200,
  /** Keys in one etcd Range answer; past it the answer says `more` (the client pages with limit). */
  etcdRangeKeysMax: 10_000,
  /**
   * Key and value bytes in one etcd Range answer, past which it says `more`. Under the 4 MiB a
   * gRPC client receives by default; one maximal key and value always fit.
   */
  etcdRangeBytesMax: 3 * MiB,
  /** How long a node waits for a peer's status when it lists the members' etcd endpoints. */
  etcdPeerStatusTimeoutMs: 1000,
  /** Watches on one etcd Watch stream (each a cursor the stream serves); a create past it is refused. */
  etcdWatchesPerStreamMax: 256,
  /**
   * Revisions of catch-up events one WatchResponse holds (etcd's watchBatchMaxRevs): events of
   * revisions applied before the watch was created come batched, later ones a response each.
   */
  etcdWatchBatchRevisionsMax: 1000,
  /**
   * Keys a sorted range inside an etcd Txn reads to sort (etcd's lock and election take the first
   * created key under a prefix in a Txn): a few waiters' keys, well under a branch's read bound.
   */
  etcdTxnSortedRangeKeysMax: 256,
  /** Requests of one etcd stream (watch creates, keepalives) waiting their turn; past it the stream ends. */
  etcdStreamRequestsQueuedMax: 64,
})

/**
 * The byte bounds the core enforces where it builds messages. A value, so the simulator can
 * shrink them and make paging and cuts happen on every seed.
 */
export type ByteLimits = Readonly<{
  /** Estimated bytes of one slot's value, a batch of commands (see valueBytes). */
  batchBytesMax: number
  messageBytesMax: number
  pipelineBytesMax: number
  queuedBytesMax: number
  /** The wire's frame limit: every message must fit in one frame. */
  frameBytesMax: number
}>

/** Upper bounds of the fixed parts of a message and of a frame around messages. */
export const messageOverheadBytes = 512
export const frameOverheadBytes = 64
/** The most a slot's log entry (or chosen entry) adds to a message besides its value. */
export const entryOverheadBytes = 128

/**
 * Cross-checks of a set of byte bounds. `commandBytesMax`, when the caller knows it, is the
 * estimate of the largest command its edge lets in (src/kv checks its own against `byteLimits`).
 */
export function checkByteLimits(bounds: ByteLimits, commandBytesMax = 0): void {
  assert(bounds.batchBytesMax >= commandBytesMax + 3, 'a maximal command must fit in one slot')
  // A slot is never split: one maximal slot must fit in one message of every kind.
  assert(bounds.messageBytesMax >= messageOverheadBytes + entryOverheadBytes + bounds.batchBytesMax, 'a maximal slot must fit in one message')
  assert(bounds.pipelineBytesMax >= bounds.batchBytesMax, 'the pipeline must hold a maximal slot')
  assert(bounds.queuedBytesMax >= bounds.batchBytesMax, 'the queue must hold a maximal slot')
  assert(bounds.frameBytesMax >= frameOverheadBytes + bounds.messageBytesMax, 'a maximal message must fit in one frame')
}

export const byteLimits: ByteLimits = Object.freeze({
  batchBytesMax: limits.batchBytesMax,
  messageBytesMax: limits.messageBytesMax,
  pipelineBytesMax: limits.pipelineBytesMax,
  queuedBytesMax: limits.queuedBytesMax,
  frameBytesMax: limits.peerFrameBytesMax,
})

checkByteLimits(byteLimits)
// The stream buffer must take several maximal frames before it drops any.
assert(limits.peerBufferedBytesMax >= 2 * limits.peerFrameBytesMax, 'peer stream buffer too small')
// Followers must hear several heartbeats before they suspect the leader.
assert(limits.heartbeatTicks * 3 <= limits.electionTimeoutTicks, 'election timeout too short')
assert(limits.retryTicks < limits.electionTimeoutTicks, 'retries must happen before an election')
assert(limits.checkQuorumTicks >= 2 * limits.electionTimeoutTicks, 'a leader must outwait its followers\' jittered election timeouts')
assert(limits.ticksPerTurnMax >= 1 && limits.ticksPerTurnMax < limits.heartbeatTicks, 'a turn may not skip a heartbeat')
// Every copy of a forwarded write is proposed within the window (a late one is refused by its
// wall-clock deadline, one skew late at worst), and every command between two copies in the log
// too. Each atMs is off by the skew either way: the record must outlive the window plus three
// skews of up to 30 s between the members' wall clocks.
assert(limits.requestRecordRetentionMs >= limits.forwardWindowMs + 3 * limits.clockSkewMsMax, 'request records expire too soon')
assert(limits.idempotencyRetentionMs >= 10 * 60_000, 'the contract keeps Idempotency-Key records 10 minutes')
// A write's slot is applied at most a pipeline after it was chosen: its receipt must still be kept.
assert(limits.receiptSlotsMax >= limits.pipelineSlotsMax * 4, 'receipts forgotten before their writes apply')
// A maximal key and value must fit one snapshot chunk (a data entry is never split).
assert(limits.snapshotChunkBytesMax >= limits.valueBytesMax + limits.keyBytesMax + 64, 'snapshot chunk too small')
// A request must be able to carry a maximal value, and its Range answer a maximal key and value.
assert(limits.etcdRequestBytesMax >= limits.valueBytesMax + limits.keyBytesMax + 64, 'etcd requests too small for a maximal value')
assert(limits.etcdRangeBytesMax >= limits.valueBytesMax + limits.keyBytesMax, 'etcd range answers too small for a maximal item')
assert(limits.etcdTxnSortedRangeKeysMax * 2 < limits.listItemsMax, 'a Txn must fit two sorted ranges in its read bound')
assert(limits.etcdWatchesPerStreamMax >= 1 && limits.etcdWatchBatchRevisionsMax >= 1 && limits.etcdStreamRequestsQueuedMax >= 1, 'etcd streams must serve something')
assert(limits.snapshotChunkBytesTarget > 0 && limits.snapshotChunkBytesTarget <= limits.snapshotChunkBytesMax, 'snapshot chunk target outside 1..max')
assert(limits.snapshotsRetained >= 1 && limits.snapshotEverySlots >= 1 && limits.snapshotEveryWrites >= 1, 'snapshots must be taken and kept')
// A slot of maximal commands must not make every turn take a snapshot.
assert(limits.snapshotEveryBytes >= 16 * limits.batchBytesMax, 'snapshots by bytes too frequent')
