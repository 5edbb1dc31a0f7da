/**
 * SQLite KvStore. The data, the applied index and the revision share the database and the
 * driver's turn transaction, so a crash can never leave them out of step.
 * @module
 */
import type { Database, Statement } from 'better-sqlite3'
import { assert } from '../core/assert.js'
import { revision, slot, type Revision, type Slot } from '../core/ids.js'
import type { DedupeRecord, KvStore, RecordSpace, StoredValue } from './kv-store.js'
import type { ApplyResult, KvItem } from './state-machine.js'

type KvRow = { key: string; value: Buffer; version: number }
type RecordRow = { key: string; result: string; at_ms: number; fingerprint: string | null }

/** One record space's table: a queue in apply order (seq). */
class RecordTable {
  readonly #get: Statement<[string], RecordRow>
  readonly #put: Statement<[string, string, number, string | null]>
  readonly #oldest: Statement<[], RecordRow>
  readonly #deleteOldest: Statement<[]>
  readonly #count: Statement<[], { count: number }>
  /** count(*) scans the table: counted once, then kept in step (null after a failed transaction). */
  #rows: number | null = null

  constructor(db: Database, table: 'idempotency' | 'request_records') {
    this.#get = db.prepare(`SELECT key, result, at_ms, fingerprint FROM ${table} WHERE key = ?`)
    this.#put = db.prepare(`INSERT INTO ${table} (key, result, at_ms, fingerprint) VALUES (?, ?, ?, ?)`)
    this.#oldest = db.prepare(`SELECT key, result, at_ms, fingerprint FROM ${table} ORDER BY seq LIMIT 1`)
    this.#deleteOldest = db.prepare(`DELETE FROM ${table} WHERE seq = (SELECT min(seq) FROM ${table})`)
    this.#count = db.prepare(`SELECT count(*) AS count FROM ${table}`)
  }

  get(key: string): DedupeRecord | null {
    const row = this.#get.get(key)
    return row === undefined ? null : recordOf(row)
  }

  put(key: string, record: DedupeRecord): void {
    this.#put.run(key, JSON.stringify(record.result), record.atMs, record.fingerprint)
    if (this.#rows !== null) this.#rows += 1
  }

  oldest(): Readonly<{ key: string; record: DedupeRecord }> | null {
    const row = this.#oldest.get()
    return row === undefined ? null : { key: row.key, record: recordOf(row) }
  }

  deleteOldest(): void {
    const changes = this.#deleteOldest.run().changes
    assert(changes === 1, 'no record to delete')
    if (this.#rows !== null) this.#rows -= 1
  }

  count(): number {
    this.#rows ??= this.#count.get()?.count ?? 0
    return this.#rows
  }

  forgetCount(): void {
    this.#rows = null
  }
}

function recordOf(row: RecordRow): DedupeRecord {
  return { result: JSON.parse(row.result) as ApplyResult, atMs: row.at_ms, fingerprint: row.fingerprint }
}

/**
 * The smallest string above every string that starts with `prefix`, or null if none. UTF-8
 * byte order is code point order, so bumping the last code point bounds the prefix.
 */
export function prefixEnd(prefix: string): string | null {
  const points = [...prefix].map((character) => character.codePointAt(0)!)
  while (points.length > 0) {
    let last = points.pop()! + 1
    if (last >= 0xd800 && last <= 0xdfff) last = 0xe000 // skip the surrogates: not valid in UTF-8
    if (last <= 0x10ffff) return String.fromCodePoint(...points, last)
  }
  return null
}

export class KvSqliteStore implements KvStore {
  readonly #db: Database
  readonly #get: Statement<[string], { value: Buffer; version: number }>
  readonly #put: Statement<[string, Buffer, number]>
  readonly #delete: Statement<[string]>
  readonly #rangeBounded: Statement<[string, string, number], KvRow>
  readonly #rangeOpen: Statement<[string, number], KvRow>
  readonly #position: Statement<[], { applied_index: number; revision: number }>
  readonly #setPosition: Statement<[number, number]>
  readonly #records: Readonly<Record<RecordSpace, RecordTable>>

  constructor(db: Database) {
    this.#db = db
    this.#get = db.prepare('SELECT value, version FROM kv WHERE key = ?')
    this.#put = db.prepare('INSERT INTO kv (key, value, version) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version')
    this.#delete = db.prepare('DELETE FROM kv WHERE key = ?')
    // Key order is BINARY collation: memcmp of the UTF-8 bytes.
    this.#rangeBounded = db.prepare('SELECT key, value, version FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?')
    this.#rangeOpen = db.prepare('SELECT key, value, version FROM kv WHERE key >= ? ORDER BY key LIMIT ?')
    this.#position = db.prepare('SELECT applied_index, revision FROM state WHERE id = 1')
    this.#setPosition = db.prepare('UPDATE state SET applied_index = ?, revision = ? WHERE id = 1')
    this.#records = { idempotency: new RecordTable(db, 'idempotency'), request: new RecordTable(db, 'request_records') }
  }

  get(key: string): StoredValue | null {
    const row = this.#get.get(key)
    return row === undefined ? null : { value: new Uint8Array(row.value), version: revision(row.version) }
  }

  put(key: string, value: Uint8Array, version: Revision): void {
    // The driver binds Buffers only; a view over the same bytes costs no copy.
    this.#put.run(key, Buffer.from(value.buffer, value.byteOffset, value.byteLength), version)
  }

  delete(key: string): boolean {
    return this.#delete.run(key).changes > 0
  }

  range(prefix: string, limit: number): Readonly<{ items: readonly KvItem[]; more: boolean }> {
    const end = prefixEnd(prefix)
    const rows = end === null ? this.#rangeOpen.all(prefix, limit + 1) : this.#rangeBounded.all(prefix, end, limit + 1)
    const items = rows.slice(0, limit).map((row) => ({ key: row.key, value: new Uint8Array(row.value), version: revision(row.version) }))
    return { items, more: rows.length > limit }
  }

  position(): Readonly<{ appliedIndex: Slot; revision: Revision }> {
    const row = this.#position.get()
    assert(row !== undefined, 'the state row is missing')
    return { appliedIndex: slot(row.applied_index), revision: revision(row.revision) }
  }

  setPosition(appliedIndex: Slot, next: Revision): void {
    this.#setPosition.run(appliedIndex, next)
  }

  recordGet(space: RecordSpace, key: string): DedupeRecord | null {
    return this.#records[space].get(key)
  }

  recordPut(space: RecordSpace, key: string, record: DedupeRecord): void {
    this.#records[space].put(key, record)
  }

  recordOldest(space: RecordSpace): Readonly<{ key: string; record: DedupeRecord }> | null {
    return this.#records[space].oldest()
  }

  recordDeleteOldest(space: RecordSpace): void {
    this.#records[space].deleteOldest()
  }

  recordCount(space: RecordSpace): number {
    return this.#records[space].count()
  }

  transaction<T>(work: () => T): T {
    try {
      return this.#db.transaction(work)()
    } catch (error) {
      // Rolled back (or the outer unit will be): counts kept in step may be off now.
      for (const table of Object.values(this.#records)) table.forgetCount()
      throw error
    }
  }

  close(): void {}
}
