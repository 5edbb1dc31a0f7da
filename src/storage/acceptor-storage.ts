/**
 * The acceptor's durable state: the promised ballot, and its log (accepted values and the chosen
 * flag once learned) in a LogStore. Implementations: memory (tests, simulator) and SQLite.
 *
 * Contract: `persist` is atomic and durable when it returns; `load` returns exactly what the
 * persisted batches add up to above the log's compaction point (later entries for a slot replace
 * earlier ones); the promised ballot never decreases, and truncating the log never changes it.
 * @module
 */
import type { AppCommand } from '../core/command.js'
import type { Slot } from '../core/ids.js'
import type { DurableAcceptorState } from '../core/replica-port.js'
import type { PersistBatch } from '../core/ready.js'
import type { LogStore } from './log-store.js'

export interface AcceptorStorage<C extends AppCommand> {
  readonly log: LogStore<C>
  load(): DurableAcceptorState<C>
  /** The promise and the entries at or above `fromSlot`: what a restart from a snapshot needs. */
  loadFrom(fromSlot: Slot): DurableAcceptorState<C>
  persist(batch: PersistBatch<C>): void
  close(): void
}
