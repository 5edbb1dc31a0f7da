/**
 * Goal: the SQLite AcceptorStorage meets the contract with a real file reopened as a restarted
 * process would, serves archived entries in order, and refuses to load rows that break what
 * its writer guarantees (a bug or tampering, so an assertion).
 * Method: the shared contract suite over openNodeStorage in a fresh temp dir per test; rows
 * edited through a second connection to the same file.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { expect, it } from 'vitest'
import { AssertionError, noopValue, nodeId, slot } from '../../src/core/index.js'
import { databaseFileName, DataDirError, openNodeStorage } from '../../src/storage/data-dir.js'
import { runAcceptorStorageContract } from './acceptor-storage-contract.js'
import type { WriteCommand } from '../../src/kv/command.js'

function openFresh() {
  const dir = mkdtempSync(join(tmpdir(), 'paxos-kv-storage-'))
  const open = () => openNodeStorage<WriteCommand>({ dir, clusterId: 'test', nodeId: nodeId(1), fsync: 'full' })
  const first = open()
  return {
    storage: { log: first.acceptorStorage.log, load: () => first.acceptorStorage.load(), loadFrom: (from: Parameters<typeof first.acceptorStorage.loadFrom>[0]) => first.acceptorStorage.loadFrom(from), persist: (batch: Parameters<typeof first.acceptorStorage.persist>[0]) => first.acceptorStorage.persist(batch), close: () => first.close() },
    reopen: () => open().acceptorStorage,
  }
}

runAcceptorStorageContract('sqlite', openFresh)

it.each([
  ['an empty batch', "UPDATE log SET value = '[]'"],
  ['an entry without a type tag', `UPDATE log SET value = '[{"op":"increment"}]'`],
  ['an unchosen vote above the promise', 'UPDATE log SET round = 99, chosen = 0'],
  ['a ballot without an owner', 'UPDATE log SET round = 3, node = 0'],
])('sqlite: load asserts on %s', (_, tamper) => {
  const dir = mkdtempSync(join(tmpdir(), 'paxos-kv-storage-'))
  const storage = openNodeStorage<WriteCommand>({ dir, clusterId: 'test', nodeId: nodeId(1), fsync: 'off' })
  const ballot = { round: 2, node: nodeId(1) }
  storage.acceptorStorage.persist({ promised: ballot, entries: [{ slot: slot(1), ballot, value: noopValue, chosen: true }] })
  expect(storage.acceptorStorage.load().entries).toHaveLength(1)
  storage.close() // the node holds an exclusive lock while open: tamper while it is stopped
  const other = new Database(join(dir, databaseFileName))
  other.exec(tamper)
  other.close()
  const reopened = openNodeStorage<WriteCommand>({ dir, clusterId: 'test', nodeId: nodeId(1), fsync: 'off' })
  expect(() => reopened.acceptorStorage.load()).toThrow(AssertionError)
  reopened.close()
})

it('sqlite: a second opener of a data dir in use is refused as in_use, and nothing is written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paxos-kv-storage-'))
  const first = openNodeStorage<WriteCommand>({ dir, clusterId: 'test', nodeId: nodeId(1), fsync: 'off' })
  first.acceptorStorage.persist({ promised: { round: 1, node: nodeId(1) }, entries: [] })
  let caught: unknown
  try {
    openNodeStorage<WriteCommand>({ dir, clusterId: 'test', nodeId: nodeId(1), fsync: 'off' })
  } catch (error) {
    caught = error
  }
  expect((caught as DataDirError).code).toBe('in_use')
  expect(first.acceptorStorage.load().promised).toEqual({ round: 1, node: 1 })
  first.close()
  const again = openNodeStorage<WriteCommand>({ dir, clusterId: 'test', nodeId: nodeId(1), fsync: 'off' })
  expect(again.acceptorStorage.load().promised).toEqual({ round: 1, node: 1 })
  again.close()
})
