/**
 * SQLite KvStore. The data, the applied index and the revision share the database and the
 * driver's turn transaction, so a crash can never leave them out of step.
 * @module
 */
import type { Database, Statement } from 'better-sqlite3'
import { assert } from '../core/assert.js'
import { revision, slot, type Revision, type Slot } from '../core/ids.js'
import type { IdempotencyRecord, KvStore, StoredValue } from './kv-store.js'
import type { ApplyResult, KvItem } from './state-machine.js'

type KvRow = { key: string; value: Buffer; version: number }

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
  readonly #idempotencyGet: Statement<[string], { result: string; at_ms: number }>
  readonly #idempotencyPut: Statement<[string, string, number]>
  readonly #evictOld: Statement<[number]>
  readonly #idempotencySpan: Statement<[], { span: number | null }>
  readonly #evictCount: Statement<[number]>

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
    this.#idempotencyGet = db.prepare('SELECT result, at_ms FROM idempotency WHERE key = ?')
    this.#idempotencyPut = db.prepare('INSERT INTO idempotency (key, result, at_ms) VALUES (?, ?, ?)')
    this.#evictOld = db.prepare('DELETE FROM idempotency WHERE at_ms < ?')
    // max(seq) - min(seq) + 1 bounds the count from above, from two index look-ups; only when it
    // exceeds the bound is the exact cut (the newest `keep` rows survive) worth its scan.
    this.#idempotencySpan = db.prepare('SELECT (SELECT max(seq) FROM idempotency) - (SELECT min(seq) FROM idempotency) + 1 AS span')
    this.#evictCount = db.prepare('DELETE FROM idempotency WHERE seq <= (SELECT seq FROM idempotency ORDER BY seq DESC LIMIT 1 OFFSET ?)')
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

  idempotencyGet(key: string): IdempotencyRecord | null {
    const row = this.#idempotencyGet.get(key)
    return row === undefined ? null : { result: JSON.parse(row.result) as ApplyResult, atMs: row.at_ms }
  }

  idempotencyPut(key: string, record: IdempotencyRecord): void {
    this.#idempotencyPut.run(key, JSON.stringify(record.result), record.atMs)
  }

  idempotencyEvict(olderThanMs: number, keep: number): void {
    assert(Number.isSafeInteger(keep) && keep >= 0, `cannot keep ${keep} records`)
    this.#evictOld.run(olderThanMs)
    // seq is assigned in apply order, so "oldest first" is the same order as the memory store's.
    const span = this.#idempotencySpan.get()?.span ?? null
    if (span !== null && span > keep) this.#evictCount.run(keep)
  }

  transaction<T>(work: () => T): T {
    return this.#db.transaction(work)()
  }

  close(): void {}
}
