/**
 * AcceptorStorage on SQLite. Statements are prepared once. `persist` runs inside the driver's
 * turn transaction when there is one (better-sqlite3 nests it as a savepoint).
 * @module
 */
import type { Database, Statement } from 'better-sqlite3'
import { assert } from '../core/assert.js'
import { ballotZero, compareBallots, type Ballot } from '../core/ballot.js'
import type { Value } from '../core/command.js'
import { nodeId, slot, type Slot } from '../core/ids.js'
import type { LogEntry } from '../core/messages.js'
import type { DurableAcceptorState, LogArchive } from '../core/replica-port.js'
import type { PersistBatch } from '../core/ready.js'
import type { AcceptorStorage } from './acceptor-storage.js'

type LogRow = { slot: number; round: number; node: number; value: string; chosen: number }

const commandTypes: ReadonlySet<string> = new Set(['put', 'delete', 'noop'])

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
 * Reads one row back, asserting what the writer guaranteed: a non-empty batch of known
 * commands, and (Paxos) an acceptor never holds an unchosen vote above its promise.
 */
function toEntry(row: LogRow, promised: Ballot): LogEntry {
  const value = JSON.parse(row.value) as Value
  assert(Array.isArray(value) && value.length > 0, `slot ${row.slot}: stored value is not a batch`)
  for (const command of value) assert(commandTypes.has(command.type), `slot ${row.slot}: unknown command ${command.type}`)
  const entry = { slot: slot(row.slot), ballot: toBallot(row.round, row.node), value, chosen: row.chosen === 1 }
  assert(entry.slot >= 1, 'slot 0 is never stored')
  assert(entry.chosen || compareBallots(entry.ballot, promised) <= 0, `slot ${row.slot}: accepted above the promise`)
  return entry
}

export class SqliteAcceptorStorage implements AcceptorStorage, LogArchive {
  readonly #selectPromised: Statement<[], { round: number; node: number }>
  readonly #updatePromised: Statement<[number, number]>
  readonly #upsertEntry: Statement<[number, number, number, string, number]>
  readonly #selectFrom: Statement<[number, number], LogRow>
  readonly #selectAll: Statement<[], LogRow>
  readonly #transaction: (batch: PersistBatch) => void

  constructor(db: Database) {
    this.#selectPromised = db.prepare('SELECT round, node FROM promised WHERE id = 1')
    this.#updatePromised = db.prepare('UPDATE promised SET round = ?, node = ? WHERE id = 1')
    this.#upsertEntry = db.prepare(
      'INSERT INTO log (slot, round, node, value, chosen) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (slot) DO UPDATE SET round = excluded.round, node = excluded.node, value = excluded.value, chosen = excluded.chosen',
    )
    this.#selectFrom = db.prepare('SELECT slot, round, node, value, chosen FROM log WHERE slot >= ? ORDER BY slot LIMIT ?')
    this.#selectAll = db.prepare('SELECT slot, round, node, value, chosen FROM log ORDER BY slot')
    this.#readPromised() // fails fast on a malformed row
    this.#transaction = db.transaction((batch: PersistBatch) => this.#write(batch))
  }

  load(): DurableAcceptorState {
    const promised = this.#readPromised()
    const entries = this.#selectAll.all().map((row) => toEntry(row, promised))
    return { promised, entries }
  }

  /** Entries needed at start: everything above `fromSlot` (older ones stay on disk). */
  loadFrom(fromSlot: Slot): DurableAcceptorState {
    const promised = this.#readPromised()
    return { promised, entries: this.#selectFrom.all(fromSlot, Number.MAX_SAFE_INTEGER).map((row) => toEntry(row, promised)) }
  }

  entriesFrom(fromSlot: Slot, max: number): readonly LogEntry[] {
    const limit = Number.isFinite(max) ? max : Number.MAX_SAFE_INTEGER
    return this.#selectFrom.all(fromSlot, limit).map((row) => toEntry(row, this.#readPromised()))
  }

  persist(batch: PersistBatch): void {
    this.#transaction(batch)
  }

  close(): void {}

  /**
   * Compares with the stored row, not a cached copy: the caller's transaction may roll back
   * after this returns, and the row is then the only truth.
   */
  #write(batch: PersistBatch): void {
    if (batch.promised !== null) {
      assert(Number.isSafeInteger(batch.promised.round) && batch.promised.round >= 1, 'a promise needs a real ballot')
      assert(compareBallots(batch.promised, this.#readPromised()) >= 0, 'promised ballot must never decrease')
      this.#updatePromised.run(batch.promised.round, batch.promised.node)
    }
    for (const entry of batch.entries) {
      assert(entry.value.length > 0, `slot ${entry.slot}: empty batch`)
      this.#upsertEntry.run(entry.slot, entry.ballot.round, entry.ballot.node, JSON.stringify(entry.value), entry.chosen ? 1 : 0)
    }
  }

  #readPromised(): Ballot {
    const row = this.#selectPromised.get()
    assert(row !== undefined, 'the promised row is missing')
    return toBallot(row.round, row.node)
  }
}

export type { Database }
