/**
 * Opens a node's data directory. Every check that can refuse it (not a database, corrupt,
 * another cluster's or node's data, a newer format) runs read-only BEFORE anything is written.
 * @module
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { NodeId } from '../core/ids.js'
import { KvSqliteStore } from '../state-machine/kv-sqlite-store.js'
import { KvStateMachine } from '../state-machine/kv-state-machine.js'
import { formatVersion, migrate, userVersion } from './migrate.js'
import { SqliteAcceptorStorage } from './sqlite-storage.js'

export type DataDirErrorCode = 'corrupt' | 'foreign_cluster' | 'foreign_node' | 'newer_format' | 'unreadable'

export class DataDirError extends Error {
  override name = 'DataDirError'
  readonly code: DataDirErrorCode

  constructor(code: DataDirErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

export type Fsync = 'full' | 'off'

export type NodeStorage = Readonly<{
  acceptorStorage: SqliteAcceptorStorage
  stateMachine: KvStateMachine
  /** One transaction around `work` (the driver's group commit); fsynced when `durable`. */
  atomically: (work: () => void, options?: Readonly<{ durable: boolean }>) => void
  /** Transactions committed so far, for metrics. */
  commits: () => number
  close: () => void
}>

export const databaseFileName = 'paxos-kv.db'

type MetaRow = { cluster_id: string; node_id: number }

/** Read-only inspection of an existing database; throws DataDirError on anything wrong. */
function inspect(path: string, clusterId: string, node: NodeId): void {
  let db: Database.Database
  try {
    db = new Database(path, { readonly: true, fileMustExist: true })
  } catch (error) {
    throw new DataDirError('unreadable', `cannot open ${path}: ${(error as Error).message}`)
  }
  try {
    const check = db.pragma('quick_check', { simple: true })
    if (check !== 'ok') throw new DataDirError('corrupt', `${path} failed its integrity check: ${String(check)}`)
    const version = userVersion(db)
    if (version > formatVersion()) {
      throw new DataDirError('newer_format', `${path} has format ${version}, newer than this build's ${formatVersion()}`)
    }
    if (version === 0) return
    const meta = db.prepare('SELECT cluster_id, node_id FROM meta WHERE id = 1').get() as MetaRow | undefined
    if (meta === undefined) return
    if (meta.cluster_id !== clusterId) {
      throw new DataDirError('foreign_cluster', `${path} belongs to cluster ${meta.cluster_id}, not ${clusterId}`)
    }
    if (meta.node_id !== node) throw new DataDirError('foreign_node', `${path} belongs to node ${meta.node_id}, not node ${node}`)
  } catch (error) {
    if (error instanceof DataDirError) throw error
    throw new DataDirError('corrupt', `${path} is not a usable paxos-kv database: ${(error as Error).message}`)
  } finally {
    db.close()
  }
}

export function openNodeStorage(options: { dir: string; clusterId: string; nodeId: NodeId; fsync: Fsync }): NodeStorage {
  const path = join(options.dir, databaseFileName)
  if (existsSync(path)) inspect(path, options.clusterId, options.nodeId)
  mkdirSync(options.dir, { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${options.fsync === 'full' ? 'FULL' : 'OFF'}`)
  db.pragma('busy_timeout = 5000')
  migrate(db)
  db.prepare('INSERT OR IGNORE INTO meta (id, cluster_id, node_id, created_at_ms) VALUES (1, ?, ?, ?)')
    .run(options.clusterId, options.nodeId, Date.now())
  let commits = 0
  const transaction = db.transaction((work: () => void) => work())
  // WAL: a FULL commit fsyncs the log, including earlier NORMAL commits, so durability is
  // ordered; a NORMAL commit can only be lost together with everything after it.
  let synchronous: 'FULL' | 'NORMAL' | 'OFF' = options.fsync === 'full' ? 'FULL' : 'OFF'
  const setSynchronous = (wanted: 'FULL' | 'NORMAL'): void => {
    if (options.fsync === 'off' || synchronous === wanted) return
    db.pragma(`synchronous = ${wanted}`)
    synchronous = wanted
  }
  return {
    acceptorStorage: new SqliteAcceptorStorage(db),
    stateMachine: new KvStateMachine(new KvSqliteStore(db)),
    atomically: (work, atomicOptions = { durable: true }) => {
      setSynchronous(atomicOptions.durable ? 'FULL' : 'NORMAL')
      transaction(work)
      commits += 1
    },
    commits: () => commits,
    close: () => db.close(),
  }
}
