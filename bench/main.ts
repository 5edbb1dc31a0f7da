/**
 * `npm run bench`: throughput and latency percentiles against a local 3-node cluster (real
 * processes, fsync on, fresh data dirs) or, with --url, a running cluster. With --with-etcd, a
 * 3-member etcd 3.4 runs beside it and every cell is measured on both, alternately, by the same
 * Go client (etcd over its gRPC API). No test asserts a time; the numbers live here.
 *
 *   npm run bench -- [--url http://127.0.0.1:7001] [--workloads put,get,mix] [--clients 1,16,64,256]
 *                    [--duration 5] [--fsync full|off] [--no-failover] [--port 7101]
 *                    [--driver autocannon|wrk|go] [--with-etcd] [--keys random|sequential] [--value-bytes 100]
 */
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { electionsStarted, put, waitForLeader } from './cluster-client.js'
import { EtcdCluster, etcdVersion } from './etcd-cluster.js'
import { runFailover, type FailoverResult } from './failover.js'
import { buildGoDriver, populateWithGo, runGo } from './go-driver.js'
import { LocalCluster } from './local-cluster.js'
import { formatComparisonTable, formatTable, writeReport, type EtcdReport } from './report.js'
import { defaultValueBytes, readKeys, runWorkload, type KeyPattern, type WorkloadName, type WorkloadResult } from './workloads.js'
import { runWrk, wrkAvailable } from './wrk.js'

const { values: flags } = parseArgs({
  options: {
    url: { type: 'string' },
    workloads: { type: 'string', default: 'put,get,stale-get,mix' },
    clients: { type: 'string', default: '1,16,64,256' },
    duration: { type: 'string', default: '5' },
    fsync: { type: 'string', default: 'full' },
    port: { type: 'string', default: '7101' },
    'no-failover': { type: 'boolean', default: false },
    driver: { type: 'string', default: 'autocannon' },
    'with-etcd': { type: 'boolean', default: false },
    keys: { type: 'string', default: 'random' },
    'value-bytes': { type: 'string' },
  },
})

const workloads = flags.workloads.split(',') as WorkloadName[]
const clients = flags.clients.split(',').map(Number)
const durationSeconds = Number(flags.duration)
/** A bad flag or a missing prerequisite: one line, exit code 2, before anything starts. */
function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`)
  process.exit(2)
}

for (const workload of workloads) {
  if (!['put', 'get', 'stale-get', 'mix'].includes(workload)) fail(`--workloads: unknown workload ${workload}`)
}
if (clients.some((count) => !Number.isInteger(count) || count < 1)) fail('--clients: positive integers')
if (!(durationSeconds > 0)) fail('--duration: seconds above 0')
if (flags.fsync !== 'full' && flags.fsync !== 'off') fail('--fsync: full or off')
if (flags.driver !== 'autocannon' && flags.driver !== 'wrk' && flags.driver !== 'go') fail('--driver: autocannon, wrk or go')
if (flags.driver === 'wrk' && !(await wrkAvailable())) fail('--driver wrk needs wrk on the PATH (Debian: apt-get install -y wrk)')
if (flags['with-etcd'] && flags.driver !== 'go') fail('--with-etcd needs --driver go (the client that speaks both HTTP and etcd\'s gRPC)')
if (flags.keys !== 'random' && flags.keys !== 'sequential') fail('--keys: random or sequential')
const keys: KeyPattern = flags.keys
const valueBytes = flags['value-bytes'] === undefined ? defaultValueBytes : Number(flags['value-bytes'])
if (!Number.isInteger(valueBytes) || valueBytes < 1 || valueBytes > 1024 * 1024) fail('--value-bytes: 1 to 1048576')
if (flags.driver === 'wrk' && valueBytes !== defaultValueBytes) fail('--value-bytes: not with --driver wrk (its script sends 100 bytes)')

type Drive = (options: { url: string; workload: WorkloadName; connections: number; durationSeconds: number; keys: KeyPattern; valueBytes: number }) => Promise<WorkloadResult>
type EtcdDriver = { drive: Drive; populate: (url: string) => Promise<void> }

/**
 * The paxos-kv driver, and the etcd one when etcd runs beside it (both through the Go binary).
 * A missing Go, etcd client source or etcd fails here, in one line naming the Debian package.
 */
async function drivers(): Promise<{ paxos: Drive; etcd: EtcdDriver | null }> {
  if (flags.driver === 'autocannon') return { paxos: runWorkload, etcd: null }
  if (flags.driver === 'wrk') return { paxos: runWrk, etcd: null }
  try {
    if (flags['with-etcd']) await etcdVersion()
    const goBinary = await buildGoDriver()
    const etcd: EtcdDriver = {
      drive: (options) => runGo(goBinary, 'etcd-grpc', options),
      populate: (url) => populateWithGo(goBinary, 'etcd-grpc', url),
    }
    return { paxos: (options) => runGo(goBinary, 'paxos-http', options), etcd: flags['with-etcd'] ? etcd : null }
  } catch (error) {
    fail((error as Error).message)
  }
}

async function populate(url: string): Promise<void> {
  for (let start = 0; start < readKeys; start += 50) {
    const batch = Array.from({ length: Math.min(50, readKeys - start) }, (_, offset) =>
      put(url, `bench/read/${start + offset}`, 'r'.repeat(100)))
    const statuses = await Promise.all(batch)
    if (statuses.some((status) => status !== 200)) throw new Error(`populating read keys failed: ${statuses.join(',')}`)
  }
}

/**
 * Every cell (workload x clients) on paxos-kv and, when given, on etcd: one after the other,
 * the order swapped from cell to cell, so the machine's drift over the run hits both alike.
 */
async function measure(paxos: { url: string; drive: Drive }, etcd: { url: string; drive: Drive } | null) {
  const paxosResults: WorkloadResult[] = []
  const etcdResults: WorkloadResult[] = []
  let cell = 0
  for (const workload of workloads) {
    for (const connections of clients) {
      const runs = [{ name: 'paxos-kv', store: paxos, results: paxosResults }]
      if (etcd !== null) runs.push({ name: 'etcd', store: etcd, results: etcdResults })
      if (cell % 2 === 1) runs.reverse()
      for (const run of runs) {
        process.stderr.write(`bench: ${run.name} ${workload} with ${connections} clients ... `)
        const result = await run.store.drive({ url: run.store.url, workload, connections, durationSeconds, keys, valueBytes })
        process.stderr.write(`${result.opsPerSecond} ops/s, p99 ${result.latencyMsP99} ms, errors ${result.errors}\n`)
        run.results.push(result)
      }
      cell += 1
    }
  }
  return { paxosResults, etcdResults }
}

async function main(): Promise<void> {
  const driver = await drivers()
  const cluster = flags.url === undefined
    ? new LocalCluster({ size: 3, basePort: Number(flags.port), fsync: flags.fsync as 'full' | 'off' })
    : null
  cluster?.startAll()
  let etcd: EtcdCluster | null = null
  try {
    if (driver.etcd !== null) etcd = await EtcdCluster.start()
    const urls = cluster?.nodes.map((node) => node.url) ?? [flags.url!]
    // Load goes to the leader on both stores (a follower would forward to it).
    const target = urls[await waitForLeader(urls)]!
    const etcdTarget = etcd === null ? null : await etcd.waitForLeader()
    process.stderr.write(`bench: target ${target}${etcdTarget === null ? '' : ` and etcd ${etcdTarget}`}, fsync ${flags.fsync}, ${durationSeconds}s per run, driver ${flags.driver}, ${keys} keys, ${valueBytes}-byte values\n`)
    if (workloads.some((workload) => workload !== 'put')) {
      await populate(target)
      if (etcdTarget !== null) await driver.etcd?.populate(etcdTarget)
    }
    const electionsBefore = await electionsStarted(urls)
    const { paxosResults: results, etcdResults } = await measure(
      { url: target, drive: driver.paxos },
      etcdTarget === null || driver.etcd === null ? null : { url: etcdTarget, drive: driver.etcd.drive },
    )
    // Spurious elections under load would show here (the failover below starts one on purpose).
    const electionsUnderLoad = (await electionsStarted(urls)) - electionsBefore
    const peakRssMiB = cluster?.peakRssMiB() ?? {}
    const etcdReport: EtcdReport | null = etcd === null || etcdTarget === null
      ? null
      : { version: await etcdVersion(), target: etcdTarget, protocol: 'grpc', results: etcdResults, peakRssMiB: etcd.peakRssMiB() }
    let failover: FailoverResult | null = null
    if (cluster !== null && !flags['no-failover']) {
      process.stderr.write('bench: failover (kill -9 the leader under load) ... ')
      failover = await runFailover(cluster)
      process.stderr.write(`${failover.msToFirstWrite} ms to the first write\n`)
    }
    const report = {
      startedAt: new Date().toISOString(), target, fsync: flags.fsync, driver: flags.driver, keys, valueBytes,
      machine: { cpus: cpus().length, node: process.version }, results, electionsUnderLoad, failover, peakRssMiB,
      etcd: etcdReport,
    }
    console.log(etcdReport === null ? formatTable(results) : formatComparisonTable(results, etcdReport.results))
    if (failover !== null) console.log(`failover: node ${failover.killedNode} killed, node ${failover.newLeader} leads, first write after ${failover.msToFirstWrite} ms`)
    console.log(`elections started during the load runs: ${electionsUnderLoad}`)
    console.log(`peak RSS (MiB) per node: ${JSON.stringify(peakRssMiB)}`)
    if (etcdReport !== null) console.log(`peak RSS (MiB) per etcd member: ${JSON.stringify(etcdReport.peakRssMiB)}`)
    console.log(`results: ${writeReport(report)}`)
  } finally {
    cluster?.stop()
    etcd?.stop()
  }
}

await main()
