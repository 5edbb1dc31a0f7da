/**
 * Goal: a data directory that is not this node's, not this cluster's, newer than this build, not
 * a database, damaged, or another program's database is refused with its own code, and left
 * byte-for-byte unchanged (no file added either); a fresh one is created; a good one reopens with
 * its data; a failed turn leaves log and KV unchanged together, also after a reopen.
 * Method: real SQLite files in temp dirs, compared as bytes (and directory listings) before and
 * after each refused open.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { ballotZero, nodeId, slot } from '../../src/core/index.js'
import { databaseFileName, DataDirError, openNodeStorage, storedClusterId } from '../../src/storage/data-dir.js'

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'paxos-kv-datadir-'))
}

const chosenPut = { slot: slot(1), ballot: { round: 1, node: nodeId(1) }, value: [{ type: 'put' as const, proposal: 'p', key: 'k', value: 'dg==', cas: null, idempotency: null }], chosen: true }

function seeded(dir: string): void {
  const storage = openNodeStorage({ dir, clusterId: 'alpha', nodeId: nodeId(1), fsync: 'full' })
  storage.atomically(() => {
    storage.acceptorStorage.persist({ promised: { round: 1, node: nodeId(1) }, entries: [chosenPut] })
  })
  storage.close()
}

/** A seeded data dir whose file another program then changed. */
function seededThen(tamper: (db: Database.Database) => void): string {
  const dir = freshDir()
  seeded(dir)
  const db = new Database(join(dir, databaseFileName))
  tamper(db)
  db.close()
  return dir
}

function expectRefused(dir: string, options: { clusterId: string; node: number }, code: string): void {
  const path = join(dir, databaseFileName)
  const before = readFileSync(path)
  const listing = readdirSync(dir)
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
  expect(readdirSync(dir)).toEqual(listing)
}

describe('openNodeStorage', () => {
  it('creates a missing directory and starts empty, in WAL mode at the newest format', () => {
    const dir = join(freshDir(), 'nested', 'node-1')
    const storage = openNodeStorage({ dir, clusterId: 'alpha', nodeId: nodeId(1), fsync: 'off' })
    expect(storage.acceptorStorage.load()).toEqual({ promised: ballotZero, entries: [] })
    expect(storage.snapshots.latest()).toBeNull()
    storage.close()
    const db = new Database(join(dir, databaseFileName), { readonly: true })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.prepare('SELECT cluster_id, node_id, format_version FROM meta').get()).toEqual({
      cluster_id: 'alpha',
      node_id: 1,
      format_version: db.pragma('user_version', { simple: true }),
    })
    db.close()
  })

  it("refuses another program's SQLite database", () => {
    const dir = freshDir()
    const db = new Database(join(dir, databaseFileName))
    db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)')
    db.close()
    expectRefused(dir, { clusterId: 'alpha', node: 1 }, 'corrupt')
  })

  it('refuses a formatted file that names no owner', () => {
    const dir = seededThen((db) => db.exec('DELETE FROM meta'))
    expectRefused(dir, { clusterId: 'alpha', node: 1 }, 'corrupt')
  })

  it('refuses a database whose pages are damaged', () => {
    const dir = freshDir()
    seeded(dir)
    const path = join(dir, databaseFileName)
    const bytes = readFileSync(path)
    const pageBytes = bytes.readUInt16BE(16)
    expect(bytes.length).toBeGreaterThanOrEqual(pageBytes * 3)
    bytes.fill(0xa5, pageBytes, pageBytes * 3) // pages 2 and 3: table roots, now nonsense
    writeFileSync(path, bytes)
    expectRefused(dir, { clusterId: 'alpha', node: 1 }, 'corrupt')
  })

  it('reports a path it cannot open as unreadable, naming it', () => {
    const dir = freshDir()
    mkdirSync(join(dir, databaseFileName))
    let caught: unknown
    try {
      openNodeStorage({ dir, clusterId: 'alpha', nodeId: nodeId(1), fsync: 'full' })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(DataDirError)
    expect((caught as DataDirError).code).toBe('unreadable')
    expect((caught as DataDirError).message).toContain(join(dir, databaseFileName))
    expect(readdirSync(join(dir, databaseFileName))).toEqual([])
  })

  it('reopens its own data', () => {
    const dir = freshDir()
    seeded(dir)
    const storage = openNodeStorage({ dir, clusterId: 'alpha', nodeId: nodeId(1), fsync: 'full' })
    expect(storage.acceptorStorage.load()).toEqual({ promised: { round: 1, node: 1 }, entries: [chosenPut] })
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
    const dir = seededThen((db) => db.pragma('user_version = 99'))
    expectRefused(dir, { clusterId: 'alpha', node: 1 }, 'newer_format')
  })

  it('refuses a file that is not a database', () => {
    const dir = freshDir()
    writeFileSync(join(dir, databaseFileName), 'this is not sqlite '.repeat(300))
    expectRefused(dir, { clusterId: 'alpha', node: 1 }, 'corrupt')
  })

  it('a turn that fails part-way leaves the log unchanged', () => {
    const dir = freshDir()
    seeded(dir)
    const storage = openNodeStorage({ dir, clusterId: 'alpha', nodeId: nodeId(1), fsync: 'full' })
    const before = storage.acceptorStorage.load()
    const entry = { slot: slot(2), ballot: { round: 9, node: nodeId(1) }, value: [{ type: 'noop' as const }], chosen: true }
    expect(() => storage.atomically(() => {
      storage.acceptorStorage.persist({ promised: { round: 9, node: nodeId(1) }, entries: [entry] })
      throw new Error('crash mid-turn')
    })).toThrow('crash mid-turn')
    expect(storage.acceptorStorage.load()).toEqual(before)
    storage.close()
    const reopened = openNodeStorage({ dir, clusterId: 'alpha', nodeId: nodeId(1), fsync: 'full' })
    expect(reopened.acceptorStorage.load()).toEqual(before)
    // The turn can be redone after the failure: nothing of the failed one is in the way.
    reopened.atomically(() => reopened.acceptorStorage.persist({ promised: null, entries: [entry] }))
    expect(reopened.acceptorStorage.loadFrom(slot(2)).entries).toEqual([entry])
    reopened.close()
  })
})

describe('data-directory identity', () => {
  it('a new directory gets a random incarnation, kept across reopens; another directory gets another', () => {
    const dir = freshDir()
    const first = openNodeStorage({ dir, clusterId: 'alpha', nodeId: nodeId(1), fsync: 'off' })
    const { identity } = first
    first.close()
    expect(identity).toEqual({ clusterId: 'alpha', nodeId: 1, incarnation: expect.stringMatching(/^[0-9a-f]{16}$/), votesFrom: 0 })
    // What a directory votes from is set when it is made (serve --join), never changed by a reopen.
    const again = openNodeStorage({ dir, clusterId: 'alpha', nodeId: nodeId(1), fsync: 'off', votesFrom: 99 })
    expect(again.identity).toEqual(identity)
    again.close()
    const joined = openNodeStorage({ dir: freshDir(), clusterId: 'alpha', nodeId: nodeId(1), fsync: 'off', votesFrom: 130 })
    expect(joined.identity.votesFrom).toBe(130)
    joined.close()
    const other = openNodeStorage({ dir: freshDir(), clusterId: 'alpha', nodeId: nodeId(1), fsync: 'off' })
    expect(other.identity.incarnation).not.toBe(identity.incarnation)
    other.close()
  })

  it('storedClusterId: null for an empty or missing directory, the stored id otherwise, and the same refusals', () => {
    expect(storedClusterId(join(freshDir(), 'absent'))).toBeNull()
    expect(storedClusterId(freshDir())).toBeNull()
    const dir = freshDir()
    seeded(dir)
    expect(storedClusterId(dir)).toBe('alpha')
    const notDatabase = freshDir()
    writeFileSync(join(notDatabase, databaseFileName), 'this is not sqlite '.repeat(300))
    expect(() => storedClusterId(notDatabase)).toThrow(DataDirError)
  })

  it('remembers each peer\'s first incarnation across a reopen, until it is forgotten', () => {
    const dir = freshDir()
    const storage = openNodeStorage({ dir, clusterId: 'alpha', nodeId: nodeId(1), fsync: 'full' })
    expect(storage.peerIncarnations.known(nodeId(2))).toBeNull()
    storage.atomically(() => storage.peerIncarnations.record(nodeId(2), 'two'))
    expect(() => storage.peerIncarnations.record(nodeId(2), 'again')).toThrow(/already recorded/)
    storage.close()
    const reopened = openNodeStorage({ dir, clusterId: 'alpha', nodeId: nodeId(1), fsync: 'full' })
    expect(reopened.peerIncarnations.all()).toEqual(new Map([[nodeId(2), 'two']]))
    reopened.peerIncarnations.forget(nodeId(2))
    expect(reopened.peerIncarnations.known(nodeId(2))).toBeNull()
    reopened.close()
  })
})
