/**
 * Opens a node's data directory. Every check that can refuse it (unreadable, not a database,
 * corrupt, another application's, another cluster's or node's data, a newer format) runs on a
 * read-only handle BEFORE anything is written, so a refused directory is left byte-for-byte as
 * it was.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { existsSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { assert } from '../core/assert.js'
import type { AppCommand } from '../core/command.js'
import type { NodeId } from '../core/ids.js'
import { FileSnapshotStore } from './file-snapshot-store.js'
import { makeDirectory } from './make-directory.js'
import { formatVersion, migrate, userVersion } from './migrate.js'
import { PeerIncarnations } from './peer-incarnations.js'
import { SqliteAcceptorStorage } from './sqlite-storage.js'
import { WalSync } from './wal-sync.js'

/** `forgotten_member`: the directory is empty, but the cluster knows this node (it was wiped). */
export type DataDirErrorCode = 'corrupt' | 'foreign_cluster' | 'foreign_node' | 'newer_format' | 'unreadable' | 'in_use' | 'forgotten_member'

/** An operating error (exit 2 at the CLI), not a bug: the message is one line naming the path. */
export class DataDirError extends Error {
  override name = 'DataDirError'
  readonly code: DataDirErrorCode

  constructor(code: DataDirErrorCode, message: string) {
    super(message.replaceAll('\n', ' '))
    this.code = code
  }
}

export type Fsync = 'full' | 'off'

/**
 * `votesFrom`: for a directory made now, the first slot it may vote in (serve --join; see
 * migrations/0009); an existing directory keeps its own.
 */
export type NodeStorageOptions = Readonly<{ dir: string; clusterId: string; nodeId: NodeId; fsync: Fsync; votesFrom?: number }>

/** Who a data directory belongs to, and which incarnation of that node it is. */
export type DataDirIdentity = Readonly<{ clusterId: string; nodeId: NodeId; incarnation: string; votesFrom: number }>

/** Generic over the commands its log holds: it stores them as they are. */
export type NodeStorage<C extends AppCommand> = Readonly<{
  identity: DataDirIdentity
  acceptorStorage: SqliteAcceptorStorage<C>
  /** The incarnation this node knows for each peer. */
  peerIncarnations: PeerIncarnations
  /** The snapshots of the state machine, in `snapshots/` beside the database. */
  snapshots: FileSnapshotStore
  /**
   * One transaction around `work` (the driver's group commit). The commit is not synced here:
   * `whenSynced` waits for the disk. WAL keeps commits ordered, so a crash can only lose a
   * suffix of them.
   */
  atomically: (work: () => void) => void
  /** Runs `release` once every commit so far is on disk (at once with fsync off). */
  whenSynced: (release: () => void) => void
  /** Transactions committed and WAL syncs done so far, for metrics. */
  commits: () => number
  syncs: () => number
  close: () => void
}>

export type SyncHooks = Readonly<{ onError: (error: Error) => void; onSynced?: (durationMs: number) => void; nowMs: () => number }>

export const databaseFileName = 'paxos-kv.db'
export const snapshotsDirName = 'snapshots'
const busyTimeoutMs = 5_000

export function openNodeStorage<C extends AppCommand>(options: NodeStorageOptions, hooks: SyncHooks = defaultSyncHooks): NodeStorage<C> {
  const path = join(options.dir, databaseFileName)
  if (existsSync(path)) inspect(path, (db) => inspectOpen(db, path, options))
  const db = openWritable(options.dir, path)
  try {
    configure(db, options.fsync)
    // Migrations and the meta row commit together: a crash mid-way leaves a fresh-looking file,
    // never a migrated one without an owner. created_at_ms is for operators only (nothing reads
    // it), so SQLite stamps it and this code stays off the clock (only src/node/clock.ts reads it).
    // A new directory gets its incarnation here, once; an existing one keeps its own.
    db.transaction(() => {
      migrate(db)
      db.prepare(
        "INSERT INTO meta (id, cluster_id, node_id, created_at_ms, format_version, incarnation, votes_from) VALUES (1, ?, ?, CAST(unixepoch('subsec') * 1000 AS INTEGER), ?, ?, ?) " +
          'ON CONFLICT (id) DO UPDATE SET format_version = excluded.format_version',
      ).run(options.clusterId, options.nodeId, formatVersion(), randomBytes(8).toString('hex'), options.votesFrom ?? 0)
    })()
  } catch (error) {
    db.close()
    throw error
  }
  const identity = identityOf(db)
  assert(identity.clusterId === options.clusterId && identity.nodeId === options.nodeId, 'the meta row names the owner that was checked')
  return nodeStorageOver(db, identity, new FileSnapshotStore(join(options.dir, snapshotsDirName), options.clusterId), options.fsync, hooks)
}

function identityOf(db: Database.Database): DataDirIdentity {
  const row = db.prepare('SELECT cluster_id, node_id, incarnation, votes_from FROM meta WHERE id = 1').get() as MetaRow & { incarnation: string; votes_from: number } | undefined
  assert(row !== undefined && row.incarnation !== '', 'a migrated data directory has an owner and an incarnation')
  return { clusterId: row.cluster_id, nodeId: row.node_id as NodeId, incarnation: row.incarnation, votesFrom: row.votes_from }
}

/**
 * The cluster a data directory belongs to, read before it is opened (a node started without
 * --cluster-id takes its cluster id from here); null for a directory with no paxos-kv data yet.
 * Throws DataDirError on a directory that cannot be used, as openNodeStorage would.
 */
export function storedClusterId(dir: string): string | null {
  const path = join(dir, databaseFileName)
  if (!existsSync(path)) return null
  let owner: MetaRow | null = null
  inspect(path, (db) => {
    if (userVersion(db) === 0) return
    owner = (db.prepare('SELECT cluster_id, node_id FROM meta WHERE id = 1').get() as MetaRow | undefined) ?? null
  })
  return (owner as MetaRow | null)?.cluster_id ?? null
}

/** Outside a node (tools, tests): a failed fsync throws where nothing can catch it, and stops. */
const defaultSyncHooks: SyncHooks = {
  onError: (error) => {
    throw error
  },
  nowMs: () => 0,
}

function nodeStorageOver<C extends AppCommand>(db: Database.Database, identity: DataDirIdentity, snapshots: FileSnapshotStore, fsync: Fsync, hooks: SyncHooks): NodeStorage<C> {
  let commits = 0
  const transaction = db.transaction((work: () => void) => work())
  const wal = fsync === 'full' ? new WalSync({ walPath: `${db.name}-wal`, ...hooks }) : null
  return {
    identity,
    acceptorStorage: new SqliteAcceptorStorage<C>(db),
    peerIncarnations: new PeerIncarnations(db),
    snapshots,
    atomically: (work) => {
      transaction(work)
      commits += 1
      wal?.committed()
    },
    whenSynced: (release) => (wal === null ? release() : wal.whenSynced(release)),
    commits: () => commits,
    syncs: () => wal?.syncs ?? 0,
    close: () => {
      wal?.close()
      db.close()
    },
  }
}

function openWritable(dir: string, path: string): Database.Database {
  try {
    makeDirectory(dir)
    return new Database(path)
  } catch (error) {
    throw new DataDirError('unreadable', `cannot open ${path}: ${messageOf(error)}`)
  }
}

/** Pragmas set explicitly, never left to the build's defaults. */
function configure(db: Database.Database, fsync: Fsync): void {
  // One process per data dir: two processes answering as the same acceptor could break
  // agreement. An exclusive lock, taken by the first write and held until the connection
  // closes (or the process dies), makes a second opener fail. Set before WAL, so WAL keeps
  // its index in process memory instead of a shared -shm file.
  db.pragma('locking_mode = EXCLUSIVE')
  const journalMode = db.pragma('journal_mode = WAL', { simple: true })
  if (journalMode !== 'wal') throw new DataDirError('unreadable', `${db.name} cannot use WAL (journal mode ${String(journalMode)})`)
  // NORMAL: commits are not synced, checkpoints are. WalSync syncs commits off the event loop
  // before anything that rests on them leaves. OFF (fsync off) never syncs.
  db.pragma(`synchronous = ${fsync === 'full' ? 'NORMAL' : 'OFF'}`)
  db.pragma('foreign_keys = ON')
  db.pragma(`busy_timeout = ${busyTimeoutMs}`)
}

type MetaRow = { cluster_id: string; node_id: number }

/**
 * Read-only inspection of an existing file; throws DataDirError on anything wrong. Reading a
 * WAL-mode file creates its -wal and -shm companions even on a read-only handle; those this
 * inspection created (empty, no other user) are removed, so a refusal leaves the dir as found.
 */
function inspect(path: string, check: (db: Database.Database) => void): void {
  const companions = [`${path}-wal`, `${path}-shm`].filter((companion) => !existsSync(companion))
  try {
    inspectFile(path, check)
  } finally {
    removeEmptyCompanions(companions)
  }
}

function removeEmptyCompanions(created: readonly string[]): void {
  const walEmpty = created.every((companion) => !companion.endsWith('-wal') || !existsSync(companion) || statSync(companion).size === 0)
  if (!walEmpty) return // someone else wrote meanwhile: theirs, not ours to remove
  for (const companion of created) rmSync(companion, { force: true })
}

function inspectFile(path: string, check: (db: Database.Database) => void): void {
  let db: Database.Database
  try {
    // A short wait: a running node holds its lock for good, so waiting longer never helps.
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 250 })
  } catch (error) {
    throw new DataDirError('unreadable', `cannot open ${path}: ${messageOf(error)}`)
  }
  try {
    check(db)
  } catch (error) {
    if (error instanceof DataDirError) throw error
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') {
      throw new DataDirError('in_use', `${path} is in use by another process (is this node already running?)`)
    }
    throw new DataDirError('corrupt', `${path} is not a usable paxos-kv database: ${messageOf(error)}`)
  } finally {
    db.close()
  }
}

function inspectOpen(db: Database.Database, path: string, expected: NodeStorageOptions): void {
  const check = db.pragma('quick_check', { simple: true })
  if (check !== 'ok') throw new DataDirError('corrupt', `${path} failed its integrity check: ${String(check)}`)
  const version = userVersion(db)
  if (version > formatVersion()) {
    throw new DataDirError('newer_format', `${path} has format ${version}, newer than this build's ${formatVersion()}`)
  }
  if (version === 0) {
    // Format 0 is an empty file; anything with tables in it belongs to some other program.
    const tables = db.prepare("SELECT count(*) AS count FROM sqlite_master WHERE type = 'table'").get() as { count: number }
    if (tables.count > 0) throw new DataDirError('corrupt', `${path} is a SQLite database, but not a paxos-kv one`)
    return
  }
  const meta = db.prepare('SELECT cluster_id, node_id FROM meta WHERE id = 1').get() as MetaRow | undefined
  if (meta === undefined) throw new DataDirError('corrupt', `${path} has format ${version} but no owner (meta row)`)
  if (meta.cluster_id !== expected.clusterId) {
    throw new DataDirError('foreign_cluster', `${path} belongs to cluster ${meta.cluster_id}, not ${expected.clusterId}`)
  }
  if (meta.node_id !== expected.nodeId) {
    throw new DataDirError('foreign_node', `${path} belongs to node ${meta.node_id}, not node ${expected.nodeId}`)
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
