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
  batchBytesMax: 4 * MiB,
  /** Linearizable reads waiting on the leader. */
  pendingReadsMax: 8192,
  /** Slots sent in one catch-up reply. */
  catchUpSlotsMax: 256,
  /** Committed slots handed to the state machine in one Ready. */
  applySlotsMax: 1024,
  /** Envelopes queued per peer in the transport before the oldest are dropped. */
  outboxEnvelopesMax: 4096,
  /** Envelopes waiting in the node's inbox before the peer route answers 503. */
  inboxEnvelopesMax: 16384,
  /** Bytes of one POST /peer/messages body. */
  peerBodyBytesMax: 64 * MiB,
  heartbeatTicks: 3,
  electionTimeoutTicks: 15,
  /** A leader re-sends unanswered accepts and prepares this often. */
  retryTicks: 6,
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
   * received it; its request-id record outlives that window by the clock skew allowed between
   * members (`requestRecordRetentionMs - forwardWindowMs`), so every copy of it finds the record.
   */
  forwardWindowMs: 30_000,
  requestRecordRetentionMs: 120_000,
  readyTurnsMax: 64,
  /** Recent slots whose timings a node keeps for consensus receipts (headers of a write). */
  receiptSlotsMax: 1024,
  /** Applied slots kept in memory (older ones are read from the archive when needed). */
  logRetainSlots: 4096,
})

// A maximal value must fit in one batch, with room for the key and framing.
assert(limits.batchBytesMax >= Math.ceil((limits.valueBytesMax * 4) / 3) + limits.keyBytesMax + 64 * KiB, 'batch too small')
// A peer message must carry a full pipeline of maximal batches.
assert(limits.peerBodyBytesMax >= limits.batchBytesMax * 4, 'peer body limit too small')
// Followers must hear several heartbeats before they suspect the leader.
assert(limits.heartbeatTicks * 3 <= limits.electionTimeoutTicks, 'election timeout too short')
assert(limits.retryTicks < limits.electionTimeoutTicks, 'retries must happen before an election')
// Every copy of a forwarded write is proposed within the window: its record must outlive it,
// with a minute to spare for the skew between the members' wall clocks (atMs).
assert(limits.requestRecordRetentionMs >= limits.forwardWindowMs + 60_000, 'request records expire too soon')
assert(limits.idempotencyRetentionMs >= 10 * 60_000, 'the contract keeps Idempotency-Key records 10 minutes')
// A write's slot is applied at most a pipeline after it was chosen: its receipt must still be kept.
assert(limits.receiptSlotsMax >= limits.pipelineSlotsMax * 4, 'receipts forgotten before their writes apply')
