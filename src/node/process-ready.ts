/**
 * The one place that orders side effects (persist before you speak). The production event loop
 * and the simulator both call it, so the simulator tests the real ordering.
 * @module
 */
import { limits } from '../core/limits.js'
import type { ProposalId } from '../core/command.js'
import type { ChosenConfig } from '../core/configuration.js'
import type { NodeId, Slot } from '../core/ids.js'
import type { ChosenEntry, Envelope } from '../core/messages.js'
import type { ReplicaPort } from '../core/replica-port.js'
import { isPersistEmpty, type PersistBatch, type ReadOutcome } from '../core/ready.js'
import type { WriteCommand } from '../kv/command.js'

export interface ReadyPorts {
  readonly self: NodeId
  /**
   * Runs `persist` and `apply` as one atomic unit: one SQLite transaction per turn, which keeps
   * the KV data, applied index and log in step. The commit need not be on disk yet: see
   * `whenSynced`. WAL keeps commits ordered, so a crash can only lose a suffix of them.
   */
  readonly atomically: (work: () => void) => void
  /**
   * Runs `release` once every commit made so far is on disk (group commit: one fsync serves
   * every turn that waited on it, and the event loop runs on meanwhile). Absent: every commit
   * is durable when `atomically` returns.
   */
  readonly whenSynced?: (release: () => void) => void
  readonly persist: (batch: PersistBatch<WriteCommand>) => void
  readonly apply: (entries: readonly ChosenEntry<WriteCommand>[]) => void
  readonly send: (envelopes: readonly Envelope<WriteCommand>[]) => void
  readonly reads: (outcomes: readonly ReadOutcome[]) => void
  readonly dropped: (proposals: readonly ProposalId[]) => void
  /**
   * Starts streaming `from`'s newest snapshot into the local snapshot store; once it is durable
   * the driver calls `replica.snapshotReady(index)`. One already running may simply go on.
   */
  readonly fetchSnapshot: (from: NodeId, through: Slot) => void
  /**
   * Inside the turn's transaction: the local snapshot through `index` replaces the state
   * machine, and the log store is truncated through `index` (behind that durable snapshot).
   * Returns the member configurations the restored state holds (empty or nothing: never changed).
   */
  readonly installSnapshot: (index: Slot) => readonly ChosenConfig[] | void
  /**
   * After the turn's transaction: take a snapshot of the state machine, now at applied index
   * `index`, and write it out once that turn is on disk (src/node/snapshotter.ts).
   */
  readonly takeSnapshot: (index: Slot) => void
  /**
   * Delivers envelopes this node sent itself, once they may count (their turn is durable).
   * Absent: they are stepped at once. The node queues them for its next event-loop turn.
   */
  readonly loopback?: (envelopes: readonly Envelope<WriteCommand>[]) => void
}

/**
 * Drains the replica's Ready, at most `readyTurnsMax` turns. Returns whether work remains for
 * the next event-loop turn.
 */
export function processReady(replica: ReplicaPort<WriteCommand>, ports: ReadyPorts): boolean {
  for (let turn = 0; turn < limits.readyTurnsMax; turn += 1) {
    const ready = replica.ready()
    if (ready === null) return false
    const install = ready.snapshot?.type === 'install' ? ready.snapshot.index : null
    if (!isPersistEmpty(ready.persist) || ready.committed.length > 0 || install !== null) {
      ports.atomically(() => {
        if (!isPersistEmpty(ready.persist)) ports.persist(ready.persist)
        // After the persist: the truncation then also drops what this turn chose below `install`.
        if (install !== null) replica.configurationsRestored(ports.installSnapshot(install) ?? [])
        if (ready.committed.length > 0) ports.apply(ready.committed)
      })
    }
    if (ready.snapshot?.type === 'take') ports.takeSnapshot(ready.snapshot.index)
    if (ready.snapshot?.type === 'fetch') ports.fetchSnapshot(ready.snapshot.from, ready.snapshot.through)
    if (ready.reads.length > 0) ports.reads(ready.reads)
    if (ready.dropped.length > 0) ports.dropped(ready.dropped)
    replica.advance(ready)
    // The core says which messages wait for the disk (Ready.messagesAfterPersist).
    deliver(replica, ports, ready.messages)
    const held = ready.messagesAfterPersist
    if (held.length === 0) continue
    if (ports.whenSynced === undefined) deliver(replica, ports, held)
    else ports.whenSynced(() => deliver(replica, ports, held))
  }
  return true
}

/** Envelopes to peers go to the transport; those to this node loop back into its replica. */
function deliver(replica: ReplicaPort<WriteCommand>, ports: ReadyPorts, envelopes: readonly Envelope<WriteCommand>[]): void {
  if (envelopes.length === 0) return
  const loopback: Envelope<WriteCommand>[] = []
  const remote: Envelope<WriteCommand>[] = []
  for (const envelope of envelopes) (envelope.to === ports.self ? loopback : remote).push(envelope)
  if (remote.length > 0) ports.send(remote)
  if (loopback.length === 0) return
  if (ports.loopback === undefined) {
    for (const envelope of loopback) replica.step(envelope)
  } else {
    ports.loopback(loopback)
  }
}
