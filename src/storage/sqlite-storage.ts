/**
 * AcceptorStorage on SQLite. Statements are prepared once. `persist` runs inside the driver's
 * turn transaction when there is one (better-sqlite3 nests it as a savepoint).
 * @module
 */
import type { Database, Statement } from 'better-sqlite3'
import { assert } from '../core/assert.js'
import { compareBallots, type Ballot } from '../core/ballot.js'
import type { Value } from '../core/command.js'
import { nodeId, slot, type Slot } from '../core/ids.js'
import type { LogEntry } from '../core/messages.js'
import type { DurableAcceptorState, LogArchive } from '../core/replica-port.js'
import type { PersistBatch } from '../core/ready.js'
import type { AcceptorStorage } from './acceptor-storage.js'

type LogRow = { slot: number; round: number; node: number; value: string; chosen: number }

function toBallot(round: number, node: number): Ballot {
  return { round, node: (node === 0 ? 0 : nodeId(node)) as Ballot['node'] }
}

function toEntry(row: LogRow): LogEntry {
  const value = JSON.parse(row.value) as Value
  assert(Array.isArray(value) && value.length > 0, `slot ${row.slot}: stored value is not a batch`)
  return { slot: slot(row.slot), ballot: toBallot(row.round, row.node), value, chosen: row.chosen === 1 }
}

export class SqliteAcceptorStorage implements AcceptorStorage, LogArchive {
  readonly #selectPromised: Statement<[], { round: number; node: number }>
  readonly #updatePromised: Statement<[number, number]>
  readonly #upsertEntry: Statement<[number, number, number, string, number]>
  readonly #selectFrom: Statement<[number, number], LogRow>
  readonly #selectAll: Statement<[], LogRow>
  readonly #transaction: (batch: PersistBatch) => void
  /** Invariant: equals the stored promise; never decreases. */
  #promised: Ballot

  constructor(db: Database) {
    this.#selectPromised = db.prepare('SELECT round, node FROM promised WHERE id = 1')
    this.#updatePromised = db.prepare('UPDATE promised SET round = ?, node = ? WHERE id = 1')
    this.#upsertEntry = db.prepare(
      'INSERT INTO log (slot, round, node, value, chosen) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (slot) DO UPDATE SET round = excluded.round, node = excluded.node, value = excluded.value, chosen = excluded.chosen',
    )
    this.#selectFrom = db.prepare('SELECT slot, round, node, value, chosen FROM log WHERE slot >= ? ORDER BY slot LIMIT ?')
    this.#selectAll = db.prepare('SELECT slot, round, node, value, chosen FROM log ORDER BY slot')
    this.#promised = this.#readPromised()
    this.#transaction = db.transaction((batch: PersistBatch) => this.#write(batch))
  }

  load(): DurableAcceptorState {
    const promised = this.#readPromised()
    const entries = this.#selectAll.all().map(toEntry)
    return { promised, entries }
  }

  /** Entries needed at start: everything above `fromSlot` (older ones stay on disk). */
  loadFrom(fromSlot: Slot): DurableAcceptorState {
    return { promised: this.#readPromised(), entries: this.#selectFrom.all(fromSlot, Number.MAX_SAFE_INTEGER).map(toEntry) }
  }

  entriesFrom(fromSlot: Slot, max: number): readonly LogEntry[] {
    const limit = Number.isFinite(max) ? max : Number.MAX_SAFE_INTEGER
    return this.#selectFrom.all(fromSlot, limit).map(toEntry)
  }

  persist(batch: PersistBatch): void {
    this.#transaction(batch)
  }

  close(): void {}

  #write(batch: PersistBatch): void {
    if (batch.promised !== null) {
      assert(compareBallots(batch.promised, this.#promised) >= 0, 'promised ballot must never decrease')
      this.#updatePromised.run(batch.promised.round, batch.promised.node)
      this.#promised = batch.promised
    }
    for (const entry of batch.entries) {
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
