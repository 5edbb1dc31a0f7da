/**
 * LogStore on SQLite: the `log` table and the compaction point in `log_compaction`. Statements
 * are prepared once; `append` runs inside the driver's turn transaction when there is one, and
 * `truncatePrefix` is one transaction of its own (nested as a savepoint inside a turn).
 * @module
 */
import type { Database, Statement } from 'better-sqlite3'
import { assert } from '../core/assert.js'
import { ballotZero, type Ballot } from '../core/ballot.js'
import type { AppCommand, Value } from '../core/command.js'
import { nodeId, slot, type Slot } from '../core/ids.js'
import type { LogEntry } from '../core/messages.js'
import type { LogRead, LogStore } from './log-store.js'

type LogRow = { slot: number; round: number; node: number; value: string; chosen: number }

/** Ballot zero (node 0) is only ever stored as itself: a chosen value learned by catch-up. */
function toBallot(round: number, node: number): Ballot {
  assert(Number.isSafeInteger(round) && round >= 0, `stored ballot round ${round} is invalid`)
  if (node === 0) {
    assert(round === 0, `stored ballot ${round}.0 has no owner`)
    return ballotZero
  }
  return { round, node: nodeId(node) }
}

/**
 * Reads one row back, asserting what the writer guaranteed: a non-empty batch of tagged entries.
 * What a command holds is the application's: it was validated before it was ever stored.
 */
function toEntry<C extends AppCommand>(row: LogRow): LogEntry<C> {
  const value = JSON.parse(row.value) as Value<C>
  assert(Array.isArray(value) && value.length > 0, `slot ${row.slot}: stored value is not a batch`)
  for (const entry of value) assert(typeof entry === 'object' && entry !== null && typeof entry.type === 'string', `slot ${row.slot}: an entry without a type`)
  const entry = { slot: slot(row.slot), ballot: toBallot(row.round, row.node), value, chosen: row.chosen === 1 }
  assert(entry.slot >= 1, 'slot 0 is never stored')
  return entry
}

export class SqliteLogStore<C extends AppCommand> implements LogStore<C> {
  readonly #upsertEntry: Statement<[number, number, number, string, number]>
  readonly #markChosen: Statement<[number, number, number]>
  readonly #selectFrom: Statement<[number, number], LogRow>
  readonly #selectLast: Statement<[], { slot: number | null }>
  readonly #selectCompacted: Statement<[], { through: number }>
  readonly #truncate: (through: Slot) => void

  constructor(db: Database) {
    this.#upsertEntry = db.prepare(
      'INSERT INTO log (slot, round, node, value, chosen) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (slot) DO UPDATE SET round = excluded.round, node = excluded.node, value = excluded.value, chosen = excluded.chosen',
    )
    this.#markChosen = db.prepare('UPDATE log SET chosen = 1 WHERE slot = ? AND round = ? AND node = ? AND chosen = 0')
    this.#selectFrom = db.prepare('SELECT slot, round, node, value, chosen FROM log WHERE slot >= ? ORDER BY slot LIMIT ?')
    this.#selectLast = db.prepare('SELECT MAX(slot) AS slot FROM log')
    this.#selectCompacted = db.prepare('SELECT through FROM log_compaction WHERE id = 1')
    const deleteThrough = db.prepare<[number]>('DELETE FROM log WHERE slot <= ?')
    const updateCompacted = db.prepare<[number]>('UPDATE log_compaction SET through = ? WHERE id = 1')
    this.#truncate = db.transaction((through: Slot) => {
      deleteThrough.run(through)
      updateCompacted.run(through)
    })
    this.compactedThrough() // fails fast on a malformed row
  }

  append(entries: readonly LogEntry<C>[]): void {
    if (entries.length === 0) return
    const compacted = this.compactedThrough()
    for (const entry of entries) {
      assert(entry.slot > compacted, `slot ${entry.slot} is compacted through ${compacted}`)
      assert(entry.value.length > 0, `slot ${entry.slot}: empty batch`)
      // A slot accepted earlier in the same ballot holds the same value (a ballot proposes one
      // value per slot): becoming chosen only flips the flag, instead of writing a value of up
      // to 1.5 MiB a second time.
      if (entry.chosen && this.#markChosen.run(entry.slot, entry.ballot.round, entry.ballot.node).changes === 1) continue
      this.#upsertEntry.run(entry.slot, entry.ballot.round, entry.ballot.node, JSON.stringify(entry.value), entry.chosen ? 1 : 0)
    }
  }

  read(fromSlot: Slot, max: number): LogRead<C> {
    const compacted = this.compactedThrough()
    if (fromSlot <= compacted) return { type: 'compacted', through: compacted }
    const limit = Number.isFinite(max) ? max : Number.MAX_SAFE_INTEGER
    return { type: 'entries', entries: this.#selectFrom.all(fromSlot, limit).map((row) => toEntry<C>(row)) }
  }

  compactedThrough(): Slot {
    const row = this.#selectCompacted.get()
    assert(row !== undefined, 'the log_compaction row is missing')
    return slot(row.through)
  }

  lastSlot(): Slot {
    const last = this.#selectLast.get()?.slot ?? null
    const compacted = this.compactedThrough()
    assert(last === null || last > compacted, `slot ${last} is stored below the compaction point ${compacted}`)
    return last === null ? compacted : slot(last)
  }

  truncatePrefix(through: Slot): void {
    if (through <= this.compactedThrough()) return
    this.#truncate(through)
  }
}
