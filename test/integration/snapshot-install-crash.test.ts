/**
 * Goal: kill -9 of a follower while it fetches a snapshot from a peer, and again while it
 * installs one, leaves a data directory that restarts correctly: the node starts (no refusal of
 * a corrupt directory), completes an install, converges and serves every key's last acknowledged
 * value, while the other two never fail a write.
 *
 * Method: a real 3-node cluster with a short snapshot interval and retained tail, and 48 MiB of
 * live data (96 values of 512 KiB), so that a snapshot transfer moves 48 MiB and is written to a
 * temporary file, fsynced and renamed before the install reads it all back. Four writers keep
 * overwriting small keys on the leader throughout. Three times the follower is stopped and the
 * two others write on until both have compacted their logs past everything it could have
 * applied, so that its restart must fetch a snapshot:
 *   1. kill -9 while the fetched snapshot is a temporary file;
 *   2. kill -9 once the fetched snapshot is renamed into place, before the install's transaction;
 *   3. a restart left alone: it restores the snapshot of (2) (the newest on its disk), fetches a
 *      newer one, installs it and converges.
 *
 * How each kill lands inside the window, deterministically rather than by timing: the test
 * watches the follower's snapshots directory (inotify, through fs.watch) and kills at the event
 * that names the fetched file, a temporary file or a final one whose slot is above anything the
 * follower can have applied itself (its own snapshots are at or below its applied index). The
 * kill is then checked: after (1) the temporary file must still be there (a fetch that finished
 * would have renamed it); after (2) the final file must be there and the log in the follower's
 * SQLite file must not be truncated through the snapshot's slot (the install truncates it in its
 * own transaction, so the kill came before that committed). On a miss (the machine descheduled
 * the test for the whole window) the step is tried again on a fresh fall-behind, up to three
 * times. Waits are on conditions, with generous timeouts.
 *
 * `--fsync off` keeps the writes fast on a shared machine (a process kill keeps the page cache);
 * snapshot files are fsynced whatever the flag.
 */
import { existsSync, watch } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { databaseFileName } from '../../src/storage/data-dir.js'
import { SqliteLogStore } from '../../src/storage/sqlite-log-store.js'
import { clusterPerTest, exitAsError, get, putEventually, waitFor, type TestCluster } from './harness.js'
import { expectValues, fullStatus, writeAll, type Expected, type WriterShape } from './keyed-writes.js'

const startCluster = clusterPerTest()
const flags = ['--fsync', 'off', '--tick-ms', '50', '--snapshot-every-slots', '300', '--log-retain-slots', '50', '--request-timeout-ms', '20000']
const bigValues = 96
const bigValueBytes = 512 * 1024
/** Small overwrites on the leader during every step: 4 writers × 16 keys. */
const shape: WriterShape = { writers: 4, keysPerWriter: 16, timeoutMs: 30_000 }
const attemptsPerKill = 3
const stepTimeoutMs = 120_000
const fetchedName = /^snapshot-(\d{16})\.snap(\.tmp\d+)?$/

const bigValue = (index: number): string => `big-${index}-`.padEnd(bigValueBytes, String.fromCharCode(97 + (index % 26)))

type FetchedFile = Readonly<{ name: string; index: number; temporary: boolean }>

/**
 * Resolves with the first file in `dir` that `wanted` accepts, as the kernel reports it created
 * or renamed into place (deletions are reported too: a name that no longer exists is skipped).
 */
function watchFor(dir: string, wanted: (file: FetchedFile) => boolean): { seen: Promise<FetchedFile>; close: () => void } {
  let close = (): void => {}
  const seen = new Promise<FetchedFile>((resolve) => {
    const watcher = watch(dir, (_event, name) => {
      const match = name === null ? null : fetchedName.exec(name)
      if (match === null || name === null) return
      const file = { name, index: Number(match[1]), temporary: match[2] !== undefined }
      if (!wanted(file) || !existsSync(join(dir, name))) return
      watcher.close()
      resolve(file)
    })
    close = () => watcher.close()
  })
  return { seen, close }
}

/** Where the log in a stopped node's data directory is truncated through (read-only). */
function compactedThrough(dataDir: string): number {
  const db = new Database(join(dataDir, databaseFileName), { readonly: true })
  try {
    return new SqliteLogStore(db).compactedThrough()
  } finally {
    db.close()
  }
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), stepTimeoutMs)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

describe('kill -9 during a snapshot install', () => {
  it('a follower killed while it fetches a snapshot, and again while it installs one, restarts, installs, converges and serves every acknowledged value', async () => {
    const cluster: TestCluster = await startCluster(3, flags, { logLevel: 'info' })
    const leader = await cluster.leader()
    const follower = cluster.ids.find((id) => id !== leader)!
    const others = cluster.ids.filter((id) => id !== follower)
    const dataDir = join(cluster.dataRoot, String(follower))
    const snapshots = join(dataDir, 'snapshots')

    for (let index = 0; index < bigValues; index += 1) await putEventually(cluster.url(leader), `big/${index}`, bigValue(index))

    const expected: Expected = new Map()
    let stopWriting = false
    const writing = writeAll(cluster, leader, Number.MAX_SAFE_INTEGER, expected, shape, () => stopWriting)

    /** Stops the follower (if it runs) and waits until both others compacted past all it can have applied. */
    const fallBehind = async (): Promise<number> => {
      await cluster.kill(follower)
      const behind = (await fullStatus(cluster, leader))!.commitIndex
      await waitFor('both live nodes to compact their logs past the stopped follower', async () => {
        const statuses = await Promise.all(others.map((id) => fullStatus(cluster, id)))
        return statuses.every((status) => status !== null && status.snapshot.logCompactedThrough > behind) ? true : null
      }, stepTimeoutMs)
      return behind
    }

    /** Restarts the follower and kill -9s it at the first fetched file that `temporary` says; returns the file, or null on a miss. */
    const killAt = async (temporary: boolean): Promise<FetchedFile | null> => {
      const behind = await fallBehind()
      const watcher = watchFor(snapshots, (file) => file.temporary === temporary && file.index > behind)
      const child = cluster.startNode(follower)
      try {
        const file = await withTimeout(Promise.race([watcher.seen, exitAsError(child, follower, cluster.stderr)]), `node ${follower} to fetch a snapshot`)
        await cluster.kill(follower)
        const inWindow = existsSync(join(snapshots, file.name)) && (temporary || compactedThrough(dataDir) < file.index)
        return inWindow ? file : null
      } finally {
        watcher.close()
      }
    }

    try {
      const killedFetching = await tryUpTo(attemptsPerKill, () => killAt(true))
      expect(killedFetching, 'a kill while the fetched snapshot was a temporary file').not.toBeNull()
      const killedInstalling = await tryUpTo(attemptsPerKill, () => killAt(false))
      expect(killedInstalling, 'a kill after the fetched snapshot was renamed into place, before it was installed').not.toBeNull()

      // Left alone, it restarts from the fetched snapshot, is sent a newer one and installs it.
      await fallBehind()
      const exit = exitAsError(cluster.startNode(follower), follower, cluster.stderr)
      const installed = await Promise.race([exit, waitFor('the follower to install a snapshot', async () => {
        const status = await fullStatus(cluster, follower)
        return status !== null && status.snapshot.installed >= 1 ? status : null
      }, stepTimeoutMs)])
      expect(installed.snapshot.installed).toBeGreaterThanOrEqual(1)
      // Its log lines are written asynchronously: wait for the one its start wrote.
      const restored = await waitFor('the restart to log its restore', async () => logLines(cluster.stdout.get(follower) ?? '').find((line) => line.msg === 'restored the newest snapshot') ?? null)
      expect(restored.index, 'the restart restored the snapshot fetched before the second kill').toBe(killedInstalling!.index)
    } finally {
      stopWriting = true
    }
    const tally = await writing
    expect(tally.failures, 'writes to the leader while the follower was killed and restarted').toEqual([])
    expect(tally.acknowledged).toBeGreaterThan(0)

    const target = (await fullStatus(cluster, leader))!.commitIndex
    await waitFor('the follower to catch up', async () => (((await fullStatus(cluster, follower))?.appliedIndex ?? 0) >= target ? true : null), stepTimeoutMs)
    await expectValues(cluster, follower, expected, 'stale')
    const wrong: string[] = []
    for (let index = 0; index < bigValues; index += 1) {
      const response = await get(cluster.url(follower), `big/${index}`, '?consistency=stale')
      const value = await response.text()
      if (response.status !== 200 || value !== bigValue(index)) wrong.push(`big/${index}: ${response.status}, ${value.length} bytes`)
    }
    expect(wrong).toEqual([])
    await expectValues(cluster, follower, expected, 'linearizable')
  }, 600_000)
})

async function tryUpTo<T>(attempts: number, attempt: () => Promise<T | null>): Promise<T | null> {
  for (let tried = 1; tried <= attempts; tried += 1) {
    const result = await attempt()
    if (result !== null) return result
  }
  return null
}

/** The node's complete JSON log lines (pino; the last piece may be a line still arriving), with the fields this test reads. */
function logLines(text: string): Array<{ msg?: string; index?: number }> {
  return text.split('\n').slice(0, -1).filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg?: string; index?: number })
}
