/**
 * Typed events the core reports for logs, metrics and traces. Reporting never changes state.
 * @module
 */
import type { Ballot } from './ballot.js'
import type { ConfigMember } from './configuration.js'
import type { NodeId, Slot } from './ids.js'

export type CoreEvent =
  | Readonly<{ type: 'pre-vote-started'; ballot: Ballot }>
  | Readonly<{ type: 'became-candidate'; ballot: Ballot }>
  | Readonly<{ type: 'became-leader'; ballot: Ballot; recoveredThrough: Slot }>
  | Readonly<{ type: 'became-follower'; ballot: Ballot; leader: NodeId | null; reason: string }>
  /**
   * The leader saw `firstSlot ..= lastSlot` chosen in `ballot`, each by the accepted votes of
   * `quorum` (ascending ids): the consensus receipt of the writes in those slots.
   */
  | Readonly<{ type: 'slots-chosen'; firstSlot: Slot; lastSlot: Slot; ballot: Ballot; quorum: readonly NodeId[] }>
  | Readonly<{ type: 'catch-up-requested'; to: NodeId; fromSlot: Slot }>
  /** A fetched snapshot replaced the state machine: slots through `index` are applied. */
  | Readonly<{ type: 'snapshot-installed'; index: Slot }>
  /** A configuration entry became known chosen in `slot`: it governs from slot + α on. */
  | Readonly<{ type: 'config-chosen'; slot: Slot; members: readonly ConfigMember[] }>

export type CoreEventSink = (event: CoreEvent) => void
