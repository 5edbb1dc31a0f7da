/**
 * The acceptor's log on disk (hashicorp/raft's LogStore): one entry per slot, accepted values
 * and the chosen flag, with a prefix that can be truncated once a durable snapshot covers it.
 * Implementations: memory (tests, simulator) and SQLite (the node); one contract suite for both
 * (test/storage/log-store-contract.ts).
 *
 * Contract:
 * - `append` inserts or replaces each entry's slot, atomically with the caller's turn; a slot at
 *   or below the compaction point is refused (an assertion: those slots are chosen and gone).
 *   Callers never append two values for one slot in one ballot (Paxos: a ballot proposes one
 *   value per slot), so an entry in the ballot its slot already holds may only set the flag.
 * - `read` answers `compacted` for any range that starts at or below `compactedThrough()`,
 *   whatever is stored above it, and otherwise the stored entries in slot order.
 * - `truncatePrefix(through)` deletes every entry at or below `through` and records the new
 *   compaction point in one step, so a crash leaves either the old log or the truncated one. The
 *   point never goes backwards; `through` may pass the highest stored slot (a snapshot install).
 *   Callers truncate only below a snapshot that is already durable (src/storage/log-compaction.ts).
 * - Commands are stored as the JSON they are and read back as they were: the store never looks
 *   inside one (it is generic over the application's commands, as the core is).
 * - The promised ballot lives beside it (AcceptorStorage) and compaction never touches it.
 * @module
 */
import type { AppCommand } from '../core/command.js'
import type { Slot } from '../core/ids.js'
import type { LogEntry } from '../core/messages.js'
import type { LogArchive, LogRead } from '../core/replica-port.js'

export type { LogRead }

export interface LogStore<C extends AppCommand> extends LogArchive<C> {
  append(entries: readonly LogEntry<C>[]): void
  read(fromSlot: Slot, max: number): LogRead<C>
  /** Every slot up to here is truncated; slotZero before the first truncation. */
  compactedThrough(): Slot
  /** The highest stored slot, or `compactedThrough()` when nothing above it is stored. */
  lastSlot(): Slot
  truncatePrefix(through: Slot): void
}
