/**
 * `npm run bench:restart`: what a restart costs once a node holds many live keys. For each key
 * count: a fresh 3-node cluster, N keys written through the Go load generator (64 clients),
 * then the data directory sizes and memory of every node, a kill -9 and restart of one
 * follower (time until it answers, and until it has applied everything it had), a kill -9
 * and restart of all three (time until a linearizable GET of the last key answers 200 on
 * node 1), and a lost disk: a follower is killed, removed, its data directory deleted, added
 * again under the same id and started with --join, so that it comes back through a snapshot
 * install (time from its start until it answers and until it has applied the leader's commit
 * index, the snapshot it fetched, its peak RSS). No test asserts a time; the numbers go to
 * stdout and bench/results/.
 *
 *   npx tsx bench/restart.ts [--keys 100000,1000000] [--value-bytes 100] [--fsync off|full] [--port 7601] [--log-retain-slots N]
 *
 * `--log-retain-slots` (default: serve's, 5000) is passed to every node. A rejoin comes through a
 * snapshot only when the log is compacted, i.e. when the fill took more slots than that (1M keys
 * take about 54,000; 100k only about 4,000, so verify the path there with, e.g., 500). The table
 * says whether a snapshot was installed.
 *
 * `--fsync off` is the default only to fill a million keys in minutes on a small machine: a
 * kill -9 does not lose what a process wrote to the OS, so the restart reads the same data.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { electionsStarted, fetchStatus, waitForAll, waitForLeader } from './cluster-client.js'
import { directoryBytes, newestSnapshotBytes } from './data-dir-usage.js'
import { buildGoDriver, populateWithGo } from './go-driver.js'
import { LocalCluster } from './local-cluster.js'

const { values: flags } = parseArgs({
  options: {
    keys: { type: 'string', default: '100000,1000000' },
    'value-bytes': { type: 'string', default: '100' },
    fsync: { type: 'string', default: 'off' },
    port: { type: 'string', default: '7601' },
    'log-retain-slots': { type: 'string' },
  },
})

function fail(message: string): never {
  process.stderr.write(`bench:restart: ${message}\n`)
  process.exit(2)
}

const keyCounts = flags.keys.split(',').map(Number)
if (keyCounts.some((count) => !Number.isInteger(count) || count < 1 || count > 1_000_000)) fail('--keys: counts from 1 to 1000000')
const valueBytes = Number(flags['value-bytes'])
if (!Number.isInteger(valueBytes) || valueBytes < 1 || valueBytes > 1024 * 1024) fail('--value-bytes: 1 to 1048576')
if (flags.fsync !== 'full' && flags.fsync !== 'off') fail('--fsync: full or off')
const fsync = flags.fsync
const basePort = Number(flags.port)
const retain = flags['log-retain-slots']
if (retain !== undefined && !(Number.isInteger(Number(retain)) && Number(retain) >= 0)) fail('--log-retain-slots: a whole number of slots')
const serveArgs = retain === undefined ? [] : ['--log-retain-slots', retain]

const pollMs = 20

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    const value = await probe()
    if (value !== null) return value
    await new Promise((resolve) => setTimeout(resolve, pollMs))
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`)
}

/** A node's applied index, or null while it does not answer. */
async function appliedIndex(url: string): Promise<number | null> {
  return (await fetchStatus(url))?.appliedIndex ?? null
}

/** A membership call on `url`, tried until it answers 200 (409 while a change settles, 503 while a leader changes). */
async function memberCall(url: string, method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<void> {
  await until(`${method} ${path}`, async () => {
    try {
      const response = await request(`${url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }), headersTimeout: 30_000, bodyTimeout: 30_000 })
      await response.body.dump()
      return response.statusCode === 200 ? true : null
    } catch {
      return null
    }
  }, 120_000)
}

async function metric(url: string, name: string): Promise<number | null> {
  try {
    const response = await request(`${url}/metrics`, { headersTimeout: 5000, bodyTimeout: 5000 })
    const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(await response.body.text())
    return match === null ? null : Number(match[1])
  } catch {
    return null
  }
}

async function linearizableGet(url: string, key: string): Promise<boolean> {
  try {
    const response = await request(`${url}/v1/kv/${key}`, { headersTimeout: 2000, bodyTimeout: 2000 })
    await response.body.dump()
    return response.statusCode === 200
  } catch {
    return false
  }
}

const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10
const seconds = (fromMs: number): number => Math.round(performance.now() - fromMs) / 1000

type Row = {
  keys: number
  fillSeconds: number
  slots: number
  snapshotsWritten: Record<string, number | null>
  dataMiB: Record<string, number>
  rssMiB: Record<string, number | null>
  electionsDuringFill: number
  followerRestart: { id: number; answersSeconds: number; caughtUpSeconds: number; rssMiB: number | null }
  clusterRestart: { linearizableReadSeconds: number; rssMiB: Record<string, number | null> }
  rejoin: Rejoin
}

/** `snapshotMiB`: its newest snapshot once caught up (the one installed, unless it wrote a newer one itself). */
type Rejoin = { id: number; slots: number; answersSeconds: number; caughtUpSeconds: number; snapshotsInstalled: number; snapshotMiB: number; peakRssMiB: number | null }

/**
 * A follower loses its disk and comes back under the same id: killed, removed, its data
 * directory deleted, added again as a learner and started with --join (the repair the README
 * gives for a dead disk). Timed from its start.
 */
async function rejoinWiped(cluster: LocalCluster, urls: readonly string[]): Promise<Rejoin> {
  const leader = cluster.nodes[await waitForLeader(urls)]!
  const follower = cluster.nodes.find((node) => node.id !== leader.id)!
  cluster.kill(follower.id)
  await memberCall(leader.url, 'DELETE', `/v1/members/${follower.id}`)
  cluster.wipe(follower.id)
  await memberCall(leader.url, 'POST', '/v1/members', { id: follower.id, url: follower.url, learner: true })
  const slots = (await fetchStatus(leader.url))!.commitIndex
  const started = performance.now()
  cluster.startJoining(follower.id, leader.url)
  await until(`node ${follower.id} answering`, () => appliedIndex(follower.url), 600_000)
  const answersSeconds = seconds(started)
  await until(`node ${follower.id} applied ${slots}`, async () => ((await appliedIndex(follower.url)) ?? 0) >= slots ? true : null, 600_000)
  const caughtUpSeconds = seconds(started)
  return {
    id: follower.id, slots, answersSeconds, caughtUpSeconds,
    snapshotsInstalled: (await fetchStatus(follower.url))?.snapshot.installed ?? 0,
    snapshotMiB: mib(newestSnapshotBytes(join(cluster.dataDir(follower.id), 'snapshots'))),
    peakRssMiB: cluster.peakRssMiB()[String(follower.id)] ?? null,
  }
}

async function measure(binary: string, keys: number): Promise<Row> {
  const cluster = new LocalCluster({ size: 3, basePort, fsync, serveArgs })
  const urls = cluster.nodes.map((node) => node.url)
  try {
    cluster.startAll()
    await waitForAll(urls)
    const leader = cluster.nodes[await waitForLeader(urls)]!
    process.stderr.write(`bench:restart: writing ${keys} keys of ${valueBytes} bytes through node ${leader.id} (fsync ${fsync}) ...\n`)
    const electionsBefore = await electionsStarted(urls)
    const fillStart = performance.now()
    await populateWithGo(binary, 'paxos-http', leader.url, { keys, clients: 64, valueBytes })
    const fillSeconds = seconds(fillStart)
    const electionsDuringFill = (await electionsStarted(urls)) - electionsBefore
    const slots = (await fetchStatus(leader.url))!.commitIndex
    for (const node of cluster.nodes) await until(`node ${node.id} applied ${slots}`, async () => ((await appliedIndex(node.url)) ?? 0) >= slots ? true : null, 120_000)
    const snapshotsWritten: Record<string, number | null> = {}
    const dataMiB: Record<string, number> = {}
    for (const node of cluster.nodes) {
      snapshotsWritten[String(node.id)] = await metric(node.url, 'paxos_kv_snapshots_written_total')
      dataMiB[String(node.id)] = mib(directoryBytes(cluster.dataDir(node.id)))
    }
    const rssMiB = cluster.rssMiB()

    const follower = cluster.nodes.find((node) => node.id !== leader.id)!
    const had = (await appliedIndex(follower.url))!
    cluster.kill(follower.id)
    const followerStart = performance.now()
    cluster.start(follower.id)
    await until(`node ${follower.id} answering`, () => appliedIndex(follower.url), 300_000)
    const answersSeconds = seconds(followerStart)
    await until(`node ${follower.id} applied ${had}`, async () => ((await appliedIndex(follower.url)) ?? 0) >= had ? true : null, 300_000)
    const caughtUpSeconds = seconds(followerStart)
    const followerRss = cluster.rssMiB()[String(follower.id)] ?? null

    for (const node of cluster.nodes) cluster.kill(node.id)
    const clusterStart = performance.now()
    cluster.startAll()
    const lastKey = `bench/read/${keys - 1}`
    await until(`a linearizable GET of ${lastKey}`, async () => ((await linearizableGet(cluster.nodes[0]!.url, lastKey)) ? true : null), 300_000)
    const linearizableReadSeconds = seconds(clusterStart)
    const clusterRestartRss = cluster.rssMiB()
    const rejoin = await rejoinWiped(cluster, urls)
    return {
      keys, fillSeconds, slots, snapshotsWritten, dataMiB, rssMiB, electionsDuringFill,
      followerRestart: { id: follower.id, answersSeconds, caughtUpSeconds, rssMiB: followerRss },
      clusterRestart: { linearizableReadSeconds, rssMiB: clusterRestartRss },
      rejoin,
    }
  } finally {
    cluster.stop()
  }
}

function format(rows: readonly Row[]): string {
  const lines = [
    '| live keys | slots | data per node MiB | RSS per node MiB | follower kill -9: answers / caught up s | all kill -9: linearizable read s | RSS after MiB |',
    '|---:|---:|---|---|---|---:|---|',
  ]
  for (const row of rows) {
    lines.push(`| ${row.keys} | ${row.slots} | ${Object.values(row.dataMiB).join(' / ')} | ${Object.values(row.rssMiB).join(' / ')} | ${row.followerRestart.answersSeconds} / ${row.followerRestart.caughtUpSeconds} | ${row.clusterRestart.linearizableReadSeconds} | ${Object.values(row.clusterRestart.rssMiB).join(' / ')} |`)
  }
  lines.push('', '| live keys | wiped follower rejoins: answers / caught up s | slots to apply | snapshots installed | snapshot MiB | its peak RSS MiB |', '|---:|---|---:|---:|---:|---:|')
  for (const { keys, rejoin } of rows) {
    lines.push(`| ${keys} | ${rejoin.answersSeconds} / ${rejoin.caughtUpSeconds} | ${rejoin.slots} | ${rejoin.snapshotsInstalled}${rejoin.snapshotsInstalled === 0 ? ' (caught up from the log: it was not compacted)' : ''} | ${rejoin.snapshotsInstalled === 0 ? '-' : rejoin.snapshotMiB} | ${rejoin.peakRssMiB ?? '?'} |`)
  }
  return lines.join('\n')
}

async function main(): Promise<void> {
  const binary = await buildGoDriver().catch((error: Error) => fail(error.message))
  const startedAt = new Date().toISOString()
  const rows: Row[] = []
  for (const keys of keyCounts) {
    rows.push(await measure(binary, keys))
    process.stderr.write(`${format(rows.slice(-1))}\n`)
  }
  process.stdout.write(`${format(rows)}\n`)
  const dir = new URL('./results/', import.meta.url)
  mkdirSync(dir, { recursive: true })
  const file = new URL(`restart-${startedAt.replace(/[:.]/g, '-')}.json`, dir)
  writeFileSync(file, `${JSON.stringify({ startedAt, fsync, valueBytes, rows }, null, 2)}\n`)
  process.stdout.write(`results: ${file.pathname}\n`)
}

await main()
