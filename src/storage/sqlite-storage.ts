/**
 * AcceptorStorage on SQLite: the promise in `promised`, the log in a SqliteLogStore over the
 * same database. Statements are prepared once. `persist` runs inside the driver's turn
 * transaction when there is one (better-sqlite3 nests it as a savepoint).
 * @module
 */
import type { Database, Statement } from 'better-sqlite3'
import { assert } from '../core/assert.js'
import { ballotZero, compareBallots, type Ballot } from '../core/ballot.js'
import type { AppCommand } from '../core/command.js'
import { nodeId, slot, type Slot } from '../core/ids.js'
import type { LogEntry } from '../core/messages.js'
import type { DurableAcceptorState } from '../core/replica-port.js'
import type { PersistBatch } from '../core/ready.js'
import type { AcceptorStorage } from './acceptor-storage.js'
import { SqliteLogStore } from './sqlite-log-store.js'

/** Ballot zero (node 0) is only ever stored as itself. */
function toPromised(round: number, node: number): Ballot {
  assert(Number.isSafeInteger(round) && round >= 0, `stored promise round ${round} is invalid`)
  if (node === 0) {
    assert(round === 0, `stored promise ${round}.0 has no owner`)
    return ballotZero
  }
  return { round, node: nodeId(node) }
}

/** (Paxos) an acceptor never holds an unchosen vote above its promise. */
function checkedAgainst<C extends AppCommand>(promised: Ballot, entry: LogEntry<C>): LogEntry<C> {
  assert(entry.chosen || compareBallots(entry.ballot, promised) <= 0, `slot ${entry.slot}: accepted above the promise`)
  return entry
}

export class SqliteAcceptorStorage<C extends AppCommand> implements AcceptorStorage<C> {
  readonly log: SqliteLogStore<C>
  readonly #selectPromised: Statement<[], { round: number; node: number }>
  readonly #updatePromised: Statement<[number, number]>
  readonly #transaction: (batch: PersistBatch<C>) => void

  constructor(db: Database) {
    this.log = new SqliteLogStore<C>(db)
    this.#selectPromised = db.prepare('SELECT round, node FROM promised WHERE id = 1')
    this.#updatePromised = db.prepare('UPDATE promised SET round = ?, node = ? WHERE id = 1')
    this.#readPromised() // fails fast on a malformed row
    this.#transaction = db.transaction((batch: PersistBatch<C>) => this.#write(batch))
  }

  load(): DurableAcceptorState<C> {
    return this.loadFrom(slot(this.log.compactedThrough() + 1))
  }

  /** Entries needed at start: everything at or above `fromSlot` (older ones stay on disk). */
  loadFrom(fromSlot: Slot): DurableAcceptorState<C> {
    const promised = this.#readPromised()
    const read = this.log.read(slot(Math.max(fromSlot, this.log.compactedThrough() + 1)), Number.POSITIVE_INFINITY)
    assert(read.type === 'entries', 'a read above the compaction point is never compacted')
    return { promised, entries: read.entries.map((entry) => checkedAgainst(promised, entry)) }
  }

  persist(batch: PersistBatch<C>): void {
    this.#transaction(batch)
  }

  close(): void {}

  /**
   * Compares with the stored row, not a cached copy: the caller's transaction may roll back
   * after this returns, and the row is then the only truth.
   */
  #write(batch: PersistBatch<C>): void {
    if (batch.promised !== null) {
      assert(Number.isSafeInteger(batch.promised.round) && batch.promised.round >= 1, 'a promise needs a real ballot')
      assert(compareBallots(batch.promised, this.#readPromised()) >= 0, 'promised ballot must never decrease')
      this.#updatePromised.run(batch.promised.round, batch.promised.node)
    }
    this.log.append(batch.entries)
  }

  #readPromised(): Ballot {
    const row = this.#selectPromised.get()
    assert(row !== undefined, 'the promised row is missing')
    return toPromised(row.round, row.node)
  }
}

export type { Database }
