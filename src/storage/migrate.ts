/**
 * Applies migrations/NNNN_name.sql in order, each in its own transaction, tracked by
 * PRAGMA user_version. A database newer than this build is refused, never touched.
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs'
import type { Database } from 'better-sqlite3'

const migrationsDir = new URL('../../migrations/', import.meta.url)

export type Migration = Readonly<{ version: number; name: string; sql: string }>

let loaded: readonly Migration[] | null = null

/** The migrations shipped with this build, read once: they cannot change while it runs. */
export function loadMigrations(): readonly Migration[] {
  loaded ??= readMigrations()
  return loaded
}

function readMigrations(): readonly Migration[] {
  return readdirSync(migrationsDir)
    .filter((name) => /^\d{4}_[a-z0-9_]+\.sql$/.test(name))
    .sort()
    .map((name, index) => {
      const version = Number(name.slice(0, 4))
      if (version !== index + 1) throw new Error(`migrations must be numbered 1, 2, 3…: ${name}`)
      return { version, name, sql: readFileSync(new URL(name, migrationsDir), 'utf8') }
    })
}

export const formatVersion = (): number => loadMigrations().length

export function userVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number
}

/**
 * Brings `db` to the newest format (or to `throughVersion`, for upgrade tests). Each migration
 * commits with its user_version, so a crash leaves the file at some whole version.
 */
export function migrate(db: Database, options: Readonly<{ throughVersion?: number }> = {}): void {
  const migrations = loadMigrations()
  const current = userVersion(db)
  if (current > migrations.length) {
    throw new Error(`database format ${current} is newer than this build understands (${migrations.length})`)
  }
  for (const migration of migrations.slice(current, options.throughVersion ?? migrations.length)) {
    db.transaction(() => {
      db.exec(migration.sql)
      db.pragma(`user_version = ${migration.version}`)
    })()
  }
}
