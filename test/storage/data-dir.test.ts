/**
 * Goal: a data directory that is not this node's, not this cluster's, newer than this build or
 * not a database is refused with its own code, and left byte-for-byte unchanged; a good one
 * reopens with its data; a failed turn leaves log and KV unchanged together.
 * Method: real SQLite files in temp dirs, compared as bytes before and after.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { nodeId, slot } from '../../src/core/index.js'
import { databaseFileName, DataDirError, openNodeStorage } from '../../src/storage/data-dir.js'

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'paxos-kv-datadir-'))
}

function seeded(dir: string): void {
  const storage = openNodeStorage({ dir, clusterId: 'alpha', nodeId: nodeId(1), fsync: 'full' })
  storage.atomically(() => {
    storage.acceptorStorage.persist({ promised: { round: 1, node: nodeId(1) }, entries: [] })
    storage.stateMachine.apply([{ slot: slot(1), value: [{ type: 'put', proposal: 'p', key: 'k', value: 'dg==', cas: null, idempotency: null }] }])
  })
  storage.close()
}

function expectRefused(dir: string, options: { clusterId: string; node: number }, code: string): void {
  const path = join(dir, databaseFileName)
  const before = readFileSync(path)
  let caught: unknown
  try {
    openNodeStorage({ dir, clusterId: options.clusterId, nodeId: nodeId(options.node), fsync: 'full' })
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(DataDirError)
  expect((caught as DataDirError).code).toBe(code)
  expect((caught as DataDirError).message).not.toContain('\n')
  expect(readFileSync(path).equals(before)).toBe(true)
}

describe('openNodeStorage', () => {
  it('reopens its own data', () => {
    const dir = freshDir()
    seeded(dir)
    const storage = openNodeStorage({ dir, clusterId: 'alpha', nodeId: nodeId(1), fsync: 'full' })
    expect(storage.stateMachine.appliedIndex()).toBe(1)
    expect(Buffer.from(storage.stateMachine.get('k')!.value).toString()).toBe('v')
    expect(storage.acceptorStorage.load().promised).toEqual({ round: 1, node: 1 })
    storage.close()
  })

  it('refuses another cluster', () => {
    const dir = freshDir()
    seeded(dir)
    expectRefused(dir, { clusterId: 'beta', node: 1 }, 'foreign_cluster')
  })

  it("refuses another node's data", () => {
    const dir = freshDir()
    seeded(dir)
    expectRefused(dir, { clusterId: 'alpha', node: 2 }, 'foreign_node')
  })

  it('refuses a newer format', () => {
    const dir = freshDir()
    seeded(dir)
    const db = new Database(join(dir, databaseFileName))
    db.pragma('user_version = 99')
    db.close()
    expectRefused(dir, { clusterId: 'alpha', node: 1 }, 'newer_format')
  })

  it('refuses a file that is not a database', () => {
    const dir = freshDir()
    writeFileSync(join(dir, databaseFileName), 'this is not sqlite '.repeat(300))
    expectRefused(dir, { clusterId: 'alpha', node: 1 }, 'corrupt')
  })

  it('a turn that fails part-way leaves the log and the KV state both unchanged', () => {
    const dir = freshDir()
    seeded(dir)
    const storage = openNodeStorage({ dir, clusterId: 'alpha', nodeId: nodeId(1), fsync: 'full' })
    expect(() => storage.atomically(() => {
      storage.acceptorStorage.persist({ promised: { round: 9, node: nodeId(1) }, entries: [] })
      storage.stateMachine.apply([{ slot: slot(2), value: [{ type: 'delete', proposal: 'q', key: 'k', cas: null, idempotency: null }] }])
      throw new Error('crash mid-turn')
    })).toThrow('crash mid-turn')
    expect(storage.acceptorStorage.load().promised).toEqual({ round: 1, node: 1 })
    expect(storage.stateMachine.appliedIndex()).toBe(1)
    expect(storage.stateMachine.get('k')).not.toBeNull()
    storage.close()
  })
})
