/**
 * Goal: migrations apply in order exactly once, are tracked by PRAGMA user_version, upgrade an
 * older file without losing data, and a file newer than this build is refused untouched.
 * Method: real SQLite files in temp dirs; schema and user_version read back after each step.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { nodeId } from '../../src/core/index.js'
import { databaseFileName, openNodeStorage } from '../../src/storage/data-dir.js'
import { formatVersion, loadMigrations, migrate, userVersion } from '../../src/storage/migrate.js'

const tables = (db: Database.Database): string[] =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map(
    (row) => row.name,
  )

function freshDatabase(): { db: Database.Database; path: string } {
  const path = join(mkdtempSync(join(tmpdir(), 'paxos-kv-migrate-')), databaseFileName)
  return { db: new Database(path), path }
}

describe('migrate', () => {
  it('numbers the shipped migrations 1..n and reports n as the format', () => {
    const versions = loadMigrations().map((migration) => migration.version)
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, index) => index + 1))
    expect(formatVersion()).toBe(versions.length)
    expect(formatVersion()).toBeGreaterThanOrEqual(4)
  })

  it('creates every table and sets user_version; a second run changes nothing', () => {
    const { db } = freshDatabase()
    migrate(db)
    expect(userVersion(db)).toBe(formatVersion())
    expect(tables(db)).toEqual(['log', 'log_compaction', 'meta', 'peer_incarnations', 'promised'])
    db.prepare('UPDATE promised SET round = 7').run()
    migrate(db)
    expect(db.prepare('SELECT round FROM promised').get()).toEqual({ round: 7 })
  })

  it('upgrades a file at an older format, keeps its log and drops the KV tables (the log rebuilds them)', () => {
    const { db, path } = freshDatabase()
    migrate(db, { throughVersion: 3 })
    expect(userVersion(db)).toBe(3)
    db.prepare('INSERT INTO meta (id, cluster_id, node_id, created_at_ms) VALUES (1, ?, ?, 0)').run('alpha', 2)
    db.prepare('INSERT INTO kv (key, value, version) VALUES (?, ?, ?)').run('k', Buffer.from('v'), 1)
    db.prepare('INSERT INTO log (slot, round, node, value, chosen) VALUES (1, 0, 0, ?, 1)').run('[{"type":"noop"}]')
    db.close()
    const storage = openNodeStorage({ dir: join(path, '..'), clusterId: 'alpha', nodeId: nodeId(2), fsync: 'off' })
    expect(storage.acceptorStorage.load().entries.map((entry) => entry.slot)).toEqual([1])
    // A directory from before incarnations keeps its cluster id and gets an incarnation of its own.
    expect(storage.identity).toEqual({ clusterId: 'alpha', nodeId: 2, incarnation: expect.stringMatching(/^[0-9a-f]{16}$/), votesFrom: 0 })
    storage.close()
    const reopened = new Database(path, { readonly: true })
    expect(userVersion(reopened)).toBe(formatVersion())
    expect(tables(reopened)).toEqual(['log', 'log_compaction', 'meta', 'peer_incarnations', 'promised'])
    expect(reopened.prepare('SELECT format_version FROM meta').get()).toEqual({ format_version: formatVersion() })
    reopened.close()
  })

  it('refuses a newer file without touching it', () => {
    const { db, path } = freshDatabase()
    db.pragma(`user_version = ${formatVersion() + 1}`)
    db.close()
    const before = readFileSync(path)
    const again = new Database(path)
    expect(() => migrate(again)).toThrow(/newer/)
    again.close()
    expect(readFileSync(path).equals(before)).toBe(true)
  })
})
