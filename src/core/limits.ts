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
  /** Catch-up requests a learner keeps in flight (pipelined chunks of catchUpSlotsMax slots). */
  catchUpRequestsMax: 4,
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
  /** Idempotency records kept per cluster, oldest evicted first. */
  idempotencyRecordsMax: 100_000,
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
// A write's slot is applied at most a pipeline after it was chosen: its receipt must still be kept.
assert(limits.receiptSlotsMax >= limits.pipelineSlotsMax * 4, 'receipts forgotten before their writes apply')
