/**
 * The one place that orders side effects (persist before you speak). The production event loop
 * and the simulator both call it, so the simulator tests the real ordering.
 * @module
 */
import { limits } from '../core/limits.js'
import type { ProposalId } from '../core/command.js'
import type { NodeId } from '../core/ids.js'
import type { ChosenEntry, Envelope } from '../core/messages.js'
import type { ReplicaPort } from '../core/replica-port.js'
import { isPersistEmpty, type PersistBatch, type ReadOutcome, type Ready } from '../core/ready.js'

export interface ReadyPorts {
  readonly self: NodeId
  /**
   * Runs `persist` and `apply` as one atomic unit: one SQLite transaction per turn (group
   * commit), which keeps the KV data, applied index and log in step. `durable` asks for the
   * fsync before returning; without it the commit may be lost in a crash, but only as a suffix.
   */
  readonly atomically: (work: () => void, options: Readonly<{ durable: boolean }>) => void
  readonly persist: (batch: PersistBatch) => void
  readonly apply: (entries: readonly ChosenEntry[]) => void
  readonly send: (envelopes: readonly Envelope[]) => void
  readonly reads: (outcomes: readonly ReadOutcome[]) => void
  readonly dropped: (proposals: readonly ProposalId[]) => void
  /**
   * Delivers envelopes this node sent itself, after the turn that produced them is durable.
   * Absent: they are stepped at once. The node queues them for its next event-loop turn
   * instead, so the network writes just issued leave before the next (blocking) fsync.
   */
  readonly loopback?: (envelopes: readonly Envelope[]) => void
}

/**
 * Persist before you speak: a turn that changes the acceptor's state (a promise, an accepted
 * value) must be on disk before anything leaves. Every reply an acceptor sends rests on such
 * state, and the turn that created it already synced it (a durable commit also syncs every
 * commit before it). A turn that only marks slots chosen and applies them needs no fsync:
 * chosen values are already durable on a majority, and a lost suffix is redone from the log.
 */
export function needsFsync(ready: Ready): boolean {
  if (ready.persist.promised !== null) return true
  return ready.persist.entries.some((entry) => !entry.chosen)
}

/**
 * Drains the replica's Ready, at most `readyTurnsMax` turns. Envelopes to this node loop back
 * into `step` only after the turn's persist, so the node's own promise or acceptance is durable
 * before it counts. Returns whether work remains for the next event-loop turn.
 */
export function processReady(replica: ReplicaPort, ports: ReadyPorts): boolean {
  for (let turn = 0; turn < limits.readyTurnsMax; turn += 1) {
    const ready = replica.ready()
    if (ready === null) return false
    if (!isPersistEmpty(ready.persist) || ready.committed.length > 0) {
      ports.atomically(() => {
        if (!isPersistEmpty(ready.persist)) ports.persist(ready.persist)
        if (ready.committed.length > 0) ports.apply(ready.committed)
      }, { durable: needsFsync(ready) })
    }
    const loopback: Envelope[] = []
    const remote: Envelope[] = []
    for (const envelope of ready.messages) (envelope.to === ports.self ? loopback : remote).push(envelope)
    if (remote.length > 0) ports.send(remote)
    if (ready.reads.length > 0) ports.reads(ready.reads)
    if (ready.dropped.length > 0) ports.dropped(ready.dropped)
    replica.advance(ready)
    if (loopback.length === 0) continue
    if (ports.loopback === undefined) {
      for (const envelope of loopback) replica.step(envelope)
    } else {
      ports.loopback(loopback)
    }
  }
  return true
}
