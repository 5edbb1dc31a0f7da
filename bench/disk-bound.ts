/**
 * `npm run bench:disk`: is a node's disk bounded by its live data, not by its history? A fresh
 * 3-node cluster (real processes, default flags, fsync on) takes PUTs from the Go load generator
 * overwriting the same keys (`-key-space`) at full speed for `--minutes`; every `--sample-seconds`
 * the bench records each data directory's bytes (database, WAL, snapshots), its newest
 * snapshot's size, and from /v1/status the writes so far (the revision), the slots the log still
 * holds (commit index less the compaction point) and the compaction point. At the end it stops
 * the nodes (a node holds its database exclusively) and prints the table and, per node, the
 * ratio of its data directory to one snapshot plus the retained log tail (the database's pages
 * in use, read then). No test asserts any of it; the figures go to stdout and bench/results/.
 *
 *   npm run bench:disk -- [--minutes 30] [--sample-seconds 30] [--keys 1000] [--clients 64] [--value-bytes 100] [--port 7701]
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { databaseFileName } from '../src/storage/data-dir.js'
import { electionsStarted, fetchStatus, waitForAll, waitForLeader } from './cluster-client.js'
import { directoryBytes, newestSnapshotBytes } from './data-dir-usage.js'
import { buildGoDriver, runGo } from './go-driver.js'
import { LocalCluster } from './local-cluster.js'

const { values: flags } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    'sample-seconds': { type: 'string', default: '30' },
    keys: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '64' },
    'value-bytes': { type: 'string', default: '100' },
    port: { type: 'string', default: '7701' },
  },
})

function fail(message: string): never {
  process.stderr.write(`bench:disk: ${message}\n`)
  process.exit(2)
}

function integerFlag(name: keyof typeof flags, min: number, max: number): number {
  const value = Number(flags[name])
  if (!Number.isInteger(value) || value < min || value > max) fail(`--${name}: an integer from ${min} to ${max}`)
  return value
}

const minutes = integerFlag('minutes', 1, 60) // load-go runs at most an hour
const sampleSeconds = integerFlag('sample-seconds', 1, 3600)
const keySpace = integerFlag('keys', 1, 1_000_000)
const clients = integerFlag('clients', 1, 4096)
const valueBytes = integerFlag('value-bytes', 0, 1024 * 1024)
const basePort = integerFlag('port', 1024, 65_000)

const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 100) / 100

/** One node's disk at one moment. */
type NodeSample = {
  id: number
  totalBytes: number
  databaseBytes: number
  /** The WAL and its shared-memory index. */
  walBytes: number
  snapshotsBytes: number
  newestSnapshotBytes: number
  commitIndex: number
  logCompactedThrough: number
}

type Sample = { seconds: number; writes: number; nodes: NodeSample[] }

function fileBytes(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0
}

/**
 * Pages of a stopped node's database in use (page count less free pages): the retained log tail
 * and the promise. Read-only; the WAL a kill -9 left is read too.
 */
function databaseInUseBytes(path: string): number {
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const pageSize = db.pragma('page_size', { simple: true }) as number
    const pages = db.pragma('page_count', { simple: true }) as number
    const free = db.pragma('freelist_count', { simple: true }) as number
    return (pages - free) * pageSize
  } finally {
    db.close()
  }
}

async function sampleNode(cluster: LocalCluster, id: number, url: string): Promise<NodeSample> {
  const dir = cluster.dataDir(id)
  const database = join(dir, databaseFileName)
  const reply = await fetchStatus(url, 5000)
  return {
    id,
    totalBytes: directoryBytes(dir),
    databaseBytes: fileBytes(database),
    walBytes: fileBytes(`${database}-wal`) + fileBytes(`${database}-shm`),
    snapshotsBytes: directoryBytes(join(dir, 'snapshots')),
    newestSnapshotBytes: newestSnapshotBytes(join(dir, 'snapshots')),
    commitIndex: reply?.commitIndex ?? -1,
    logCompactedThrough: reply?.snapshot.logCompactedThrough ?? -1,
  }
}

async function sample(cluster: LocalCluster, leaderUrl: string, startedMs: number): Promise<Sample> {
  const writes = (await fetchStatus(leaderUrl, 5000))?.revision ?? -1
  const nodes = await Promise.all(cluster.nodes.map((node) => sampleNode(cluster, node.id, node.url)))
  return { seconds: Math.round((performance.now() - startedMs) / 1000), writes, nodes }
}

function perNode(nodes: readonly NodeSample[], value: (node: NodeSample) => number | string): string {
  return nodes.map(value).join(' / ')
}

function table(samples: readonly Sample[]): string {
  const lines = [
    '| t s | writes | data dir MiB | database MiB | WAL MiB | snapshots MiB | newest snapshot MiB | log slots retained | compacted through |',
    '|---:|---:|---|---|---|---|---|---|---|',
  ]
  for (const { seconds, writes, nodes } of samples) {
    lines.push(`| ${seconds} | ${writes} | ${perNode(nodes, (node) => mib(node.totalBytes))} | ${perNode(nodes, (node) => mib(node.databaseBytes))} | ${perNode(nodes, (node) => mib(node.walBytes))} | ${perNode(nodes, (node) => mib(node.snapshotsBytes))} | ${perNode(nodes, (node) => mib(node.newestSnapshotBytes))} | ${perNode(nodes, (node) => node.commitIndex - node.logCompactedThrough)} | ${perNode(nodes, (node) => node.logCompactedThrough)} |`)
  }
  return lines.join('\n')
}

type Bound = { id: number; dataDirMiB: number; snapshotMiB: number; retainedTailMiB: number; ratio: number }

/** Per stopped node: data dir bytes over one snapshot plus the retained tail (the database's pages in use). */
function bound(cluster: LocalCluster, node: NodeSample): Bound {
  const tail = databaseInUseBytes(join(cluster.dataDir(node.id), databaseFileName))
  const ratio = Math.round((node.totalBytes / (node.newestSnapshotBytes + tail)) * 100) / 100
  return { id: node.id, dataDirMiB: mib(node.totalBytes), snapshotMiB: mib(node.newestSnapshotBytes), retainedTailMiB: mib(tail), ratio }
}

async function main(): Promise<void> {
  const binary = await buildGoDriver().catch((error: Error) => fail(error.message))
  const startedAt = new Date().toISOString()
  const cluster = new LocalCluster({ size: 3, basePort, fsync: 'full' })
  const urls = cluster.nodes.map((node) => node.url)
  try {
    cluster.startAll()
    await waitForAll(urls)
    const leader = cluster.nodes[await waitForLeader(urls)]!
    process.stderr.write(`bench:disk: ${clients} clients overwriting ${keySpace} keys of ${valueBytes} bytes through node ${leader.id} for ${minutes} min, a sample every ${sampleSeconds} s ...\n`)
    const electionsBefore = await electionsStarted(urls)
    const startedMs = performance.now()
    const samples: Sample[] = [await sample(cluster, leader.url, startedMs)]
    const load = runGo(binary, 'paxos-http', { url: leader.url, workload: 'put', connections: clients, durationSeconds: minutes * 60, keys: 'random', keySpace, valueBytes })
    let loadDone = false
    const finished = load.then(() => {}, () => {}).finally(() => (loadDone = true))
    for (;;) {
      const next = startedMs + samples.length * sampleSeconds * 1000
      await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())))])
      if (loadDone) break
      samples.push(await sample(cluster, leader.url, startedMs))
      process.stderr.write(`${table(samples.slice(-1)).split('\n').at(-1)}\n`)
    }
    const result = await load
    samples.push(await sample(cluster, leader.url, startedMs))
    const elections = (await electionsStarted(urls)) - electionsBefore
    const peakRssMiB = cluster.peakRssMiB()
    for (const node of cluster.nodes) await cluster.killAndWait(node.id)
    const final = samples.at(-1)!.nodes.map((node) => bound(cluster, node))
    process.stdout.write(`${table(samples)}\n\n`)
    process.stdout.write(`PUT: ${result.opsPerSecond} ops/s, p99 ${result.latencyMsP99} ms, ${result.errors} errors ${JSON.stringify(result.errorsByKind)}; elections during the load: ${elections}; peak RSS MiB ${JSON.stringify(peakRssMiB)}\n`)
    process.stdout.write('at the end, per node: data dir MiB / (newest snapshot MiB + retained tail MiB) = ratio\n')
    for (const node of final) process.stdout.write(`  node ${node.id}: ${node.dataDirMiB} / (${node.snapshotMiB} + ${node.retainedTailMiB}) = ${node.ratio}\n`)
    const dir = new URL('./results/', import.meta.url)
    mkdirSync(dir, { recursive: true })
    const file = new URL(`disk-${startedAt.replace(/[:.]/g, '-')}.json`, dir)
    writeFileSync(file, `${JSON.stringify({ startedAt, minutes, sampleSeconds, keySpace, clients, valueBytes, load: result, elections, peakRssMiB, bounds: final, samples }, null, 2)}\n`)
    process.stdout.write(`results: ${file.pathname}\n`)
  } finally {
    cluster.stop()
  }
}

await main()
