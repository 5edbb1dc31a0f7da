/**
 * The surface the driver (src/node) and the simulator use. `Replica` implements it.
 * @module
 */
import type { Ballot } from './ballot.js'
import type { ByteLimits } from './limits.js'
import type { AppCommand, CommandPort, ProposeResult } from './command.js'
import type { CoreEventSink } from './events.js'
import type { NodeId, Slot } from './ids.js'
import type { Envelope, LogEntry } from './messages.js'
import type { Random } from './random.js'
import type { ReadId, Ready } from './ready.js'

export type Role = 'follower' | 'candidate' | 'leader'

/** What an acceptor had on disk when the process started. */
export type DurableAcceptorState<C extends AppCommand> = Readonly<{ promised: Ballot; entries: readonly LogEntry<C>[] }>

/**
 * A read of persisted log entries. A range that reaches into the compacted prefix answers
 * `compacted` (every slot through `through` is chosen and covered by a durable snapshot),
 * never a short or empty list that would read as "nothing accepted there".
 */
export type LogRead<C extends AppCommand> =
  | Readonly<{ type: 'entries'; entries: readonly LogEntry<C>[] }>
  | Readonly<{ type: 'compacted'; through: Slot }>

/**
 * Read access to persisted log entries, so the replica can drop applied entries from memory
 * and still serve catch-ups and promises for old slots. Synchronous, like better-sqlite3.
 */
export interface LogArchive<C extends AppCommand> {
  /** Persisted entries with slot >= fromSlot, in slot order, at most `max`; or `compacted`. */
  read(fromSlot: Slot, max: number): LogRead<C>
}

export type ReplicaOptions<C extends AppCommand> = Readonly<{
  self: NodeId
  /** Every member, this node included. */
  members: readonly NodeId[]
  durable: DurableAcceptorState<C>
  /** What the core learns of the application's commands: their size and proposal. */
  commands: CommandPort<C>
  /**
   * The state machine's applied index at start: slots up to here are applied already. With an
   * archive they are read from it when needed, and `durable.entries` holds only later slots.
   */
  appliedIndex: Slot
  random: Random
  /**
   * The log store's compaction point at start (at most `appliedIndex`): slots through it are
   * in the snapshot only. Absent: nothing is compacted.
   */
  compactedThrough?: Slot
  /**
   * Ready asks to take a snapshot after this many applied slots (`--snapshot-every-slots`).
   * Absent: it never does (the driver takes none, or its tests take them by hand).
   */
  snapshotEverySlots?: number
  /** Also once this many commands were applied since the last (`--snapshot-every-writes`). */
  snapshotEveryCommands?: number
  /**
   * Also once the applied commands' estimated bytes (CommandPort.bytes) since the last reach this
   * (`--snapshot-every-bytes`). Whichever of the three bounds comes first; each absent: not counted.
   */
  snapshotEveryBytes?: number
  /** Without an archive every entry stays in memory (tests, simulator). */
  archive?: LogArchive<C>
  onEvent?: CoreEventSink
  /** The byte bounds on slots and messages; `byteLimits` unless a test shrinks them. */
  byteLimits?: ByteLimits
}>

export type ReadResult =
  | Readonly<{ type: 'reading' }>
  | Readonly<{ type: 'not_leader'; leader: NodeId | null }>
  | Readonly<{ type: 'overloaded' }>

export type ReplicaStatus = Readonly<{
  id: NodeId
  role: Role
  leader: NodeId | null
  /** The highest ballot this node has promised. */
  ballot: Ballot
  commitIndex: Slot
  appliedIndex: Slot
}>

export interface ReplicaPort<C extends AppCommand> {
  /** One logical tick; all timeouts count ticks. */
  tick(): void
  /** Start an election now rather than on the election timeout. */
  campaign(): void
  /** One peer message, already decoded and authenticated. */
  step(envelope: Envelope<C>): void
  /** Leader only: queue a write for the next slot. */
  propose(command: C): ProposeResult
  /** Leader only: start a read-index read; its outcome arrives in `Ready.reads`. */
  read(id: ReadId): ReadResult
  /** What to persist, send and apply now; null when there is nothing. */
  ready(): Ready<C> | null
  /** The driver did everything in `ready`. */
  advance(ready: Ready<C>): void
  /** The log store was truncated through `through`, behind a durable snapshot. */
  compacted(through: Slot): void
  /** A fetched snapshot through `index` is durable in the local store. */
  snapshotReady(index: Slot): void
  status(): ReplicaStatus
}
