/**
 * Goal: SqliteLogStore meets the LogStore contract over a real file reopened as a restarted
 * process would, and a truncation inside a turn that rolls back leaves the whole log and the old
 * compaction point (a crash mid-truncation is that rollback).
 * Method: the shared contract suite over openNodeStorage in a fresh temp dir per test.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { noopValue, nodeId, slot } from '../../src/core/index.js'
import { openNodeStorage } from '../../src/storage/data-dir.js'
import { runLogStoreContract } from './log-store-contract.js'
import type { WriteCommand } from '../../src/kv/command.js'

function openFresh() {
  const dir = mkdtempSync(join(tmpdir(), 'paxos-kv-log-store-'))
  const open = () => openNodeStorage<WriteCommand>({ dir, clusterId: 'test', nodeId: nodeId(1), fsync: 'off' })
  const first = open()
  return { log: first.acceptorStorage.log, close: () => first.close(), reopen: () => open().acceptorStorage.log }
}

runLogStoreContract('sqlite', openFresh)

it('sqlite: a truncation in a turn that rolls back leaves the log and its compaction point as they were', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paxos-kv-log-store-'))
  const storage = openNodeStorage<WriteCommand>({ dir, clusterId: 'test', nodeId: nodeId(1), fsync: 'off' })
  const log = storage.acceptorStorage.log
  log.append([1, 2, 3].map((at) => ({ slot: slot(at), ballot: { round: 1, node: nodeId(1) }, value: noopValue, chosen: true })))
  expect(() =>
    storage.atomically(() => {
      log.truncatePrefix(slot(2))
      throw new Error('crash')
    }),
  ).toThrow('crash')
  expect(log.compactedThrough()).toBe(0)
  const read = log.read(slot(1), 10)
  expect(read.type === 'entries' && read.entries.map((entry) => entry.slot)).toEqual([1, 2, 3])
  storage.close()
})
