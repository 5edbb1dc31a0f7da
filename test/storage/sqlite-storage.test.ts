/**
 * Goal: the SQLite AcceptorStorage meets the contract with a real file reopened as a restarted
 * process would, and serves archived entries in order.
 * Method: the shared contract suite over openNodeStorage in a fresh temp dir per test.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { noopValue, nodeId, slot } from '../../src/core/index.js'
import { openNodeStorage } from '../../src/storage/data-dir.js'
import { runAcceptorStorageContract } from './acceptor-storage-contract.js'

function openFresh() {
  const dir = mkdtempSync(join(tmpdir(), 'paxos-kv-storage-'))
  const open = () => openNodeStorage({ dir, clusterId: 'test', nodeId: nodeId(1), fsync: 'full' })
  const first = open()
  return {
    storage: { load: () => first.acceptorStorage.load(), persist: (batch: Parameters<typeof first.acceptorStorage.persist>[0]) => first.acceptorStorage.persist(batch), close: () => first.close() },
    reopen: () => open().acceptorStorage,
  }
}

runAcceptorStorageContract('sqlite', openFresh)

it('sqlite: entriesFrom serves the archive in slot order with a limit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paxos-kv-storage-'))
  const storage = openNodeStorage({ dir, clusterId: 'test', nodeId: nodeId(1), fsync: 'off' })
  const entries = [5, 2, 9, 3].map((at) => ({ slot: slot(at), ballot: { round: 1, node: nodeId(1) }, value: noopValue, chosen: true }))
  storage.acceptorStorage.persist({ promised: null, entries })
  expect(storage.acceptorStorage.entriesFrom(slot(3), 2).map((entry) => entry.slot)).toEqual([3, 5])
  expect(storage.acceptorStorage.entriesFrom(slot(1), Number.POSITIVE_INFINITY)).toHaveLength(4)
  storage.close()
})
