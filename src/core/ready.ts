/**
 * Ready: what the core asks the world to do (src/node/process-ready.ts): persist and apply
 * in one transaction, send, advance. An acceptor's replies, and every message to this node
 * itself, leave only once `persist` (and everything persisted before it) is on disk.
 * @module
 */
import type { Ballot } from './ballot.js'
import type { AppCommand, ProposalId } from './command.js'
import type { NodeId, Slot } from './ids.js'
import type { ChosenEntry, Envelope, LogEntry } from './messages.js'

export type ReadId = number

/** Durable acceptor state changes. `promised: null` means unchanged. */
export type PersistBatch<C extends AppCommand> = Readonly<{ promised: Ballot | null; entries: readonly LogEntry<C>[] }>

export type ReadOutcome = Readonly<{ id: ReadId; type: 'ready' | 'not_leader' }>

/**
 * What the driver must do about snapshots this turn.
 * - `take`: after this turn's apply, take a snapshot of the state machine (its applied index is
 *   then `index`) and write it out; the driver may finish one already under way first.
 * - `fetch`: this node lacks chosen slots through `through` that `from` has compacted away:
 *   stream `from`'s newest snapshot into the local snapshot store (durably), then call
 *   `snapshotReady`. Asked again after a while if nothing came of it; a fetch already running
 *   for it may just go on.
 * - `install`: the snapshot through `index` in the local store replaces the state machine, and
 *   the log store is truncated through `index`, in this turn's transaction, before `committed`
 *   (empty in such a turn) and before advance.
 */
export type SnapshotAction =
  | Readonly<{ type: 'take'; index: Slot }>
  | Readonly<{ type: 'fetch'; from: NodeId; through: Slot }>
  | Readonly<{ type: 'install'; index: Slot }>

export type Ready<C extends AppCommand> = Readonly<{
  persist: PersistBatch<C>
  /**
   * Envelopes that may leave now, before `persist` is on disk (prepare, accept, heartbeat,
   * catch-up, chosen, pre-vote). Those addressed to this node itself loop back into it.
   */
  messages: readonly Envelope<C>[]
  /**
   * The acceptor's replies (promise, accepted, heartbeat-ack, reject: etcd's msgsAfterAppend):
   * they rest on the state in `persist` and leave only once it, and everything persisted
   * before it, is on disk.
   */
  messagesAfterPersist: readonly Envelope<C>[]
  /** Chosen slots, contiguous from appliedIndex + 1, to apply in order. */
  committed: readonly ChosenEntry<C>[]
  /** Linearizable reads that may now be served from the state machine (after `committed`). */
  reads: readonly ReadOutcome[]
  /** Commands that never got a slot and never will from this node: safe to retry elsewhere. */
  dropped: readonly ProposalId[]
  snapshot: SnapshotAction | null
}>

export function isPersistEmpty<C extends AppCommand>(batch: PersistBatch<C>): boolean {
  return batch.promised === null && batch.entries.length === 0
}

export function lastCommittedSlot<C extends AppCommand>(ready: Ready<C>): Slot | null {
  const last = ready.committed[ready.committed.length - 1]
  return last === undefined ? null : last.slot
}
