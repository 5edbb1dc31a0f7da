/**
 * Goal: the KV state machine behaves identically over the memory and SQLite stores.
 * Method: the shared contract suite, once per store (SQLite in a fresh temp dir each time).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { expect, it } from 'vitest'
import { KvMemoryStore } from '../../src/state-machine/kv-memory-store.js'
import { KvSqliteStore, prefixEnd } from '../../src/state-machine/kv-sqlite-store.js'
import { migrate } from '../../src/storage/migrate.js'
import { runStateMachineContract } from './state-machine-contract.js'

runStateMachineContract('memory', () => new KvMemoryStore())
runStateMachineContract('sqlite', () => {
  const db = new Database(join(mkdtempSync(join(tmpdir(), 'paxos-kv-kv-')), 'kv.db'))
  migrate(db)
  return new KvSqliteStore(db)
})

it('prefixEnd bounds a prefix in code point order', () => {
  expect(prefixEnd('ab')).toBe('ac')
  expect(prefixEnd('')).toBeNull()
  expect(prefixEnd('a\u{10FFFF}')).toBe('b')
  expect(prefixEnd('\u{D7FF}')).toBe('\u{E000}')
})
