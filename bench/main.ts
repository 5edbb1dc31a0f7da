/**
 * `npm run bench`: throughput and latency percentiles against a local 3-node cluster (real
 * processes, fsync on, fresh data dirs) or, with --url, a running cluster. With --with-etcd, a
 * 3-member etcd 3.4 runs beside it and every cell is measured on both, alternately, by the same
 * Go client (etcd over its gRPC API). With --paxos-grpc the paxos-kv nodes also serve the etcd API
 * (serve --etcd-port) and every cell is measured a third time through it, with the same etcd client
 * code that drives etcd. No test asserts a time; the numbers live here.
 *
 *   npm run bench -- [--url http://127.0.0.1:7001] [--workloads put,get,stale-get,mix,txn] [--clients 1,16,64,256]
 *                    [--duration 5] [--fsync full|off] [--no-failover] [--port 7101]
 *                    [--driver autocannon|wrk|go] [--with-etcd] [--paxos-grpc] [--keys random|sequential] [--value-bytes 100]
 */
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { electionsStarted, fetchStatus, put, waitForLeader } from './cluster-client.js'
import { EtcdCluster, etcdVersion } from './etcd-cluster.js'
import { runFailover, type FailoverResult } from './failover.js'
import { buildGoDriver, populateWithGo, runGo } from './go-driver.js'
import { LocalCluster } from './local-cluster.js'
import { formatComparisonTable, formatTable, writeReport, type EtcdReport, type StoreColumn } from './report.js'
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
    'paxos-grpc': { type: 'boolean', default: false },
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
  if (!['put', 'get', 'stale-get', 'mix', 'txn'].includes(workload)) fail(`--workloads: unknown workload ${workload}`)
}
if (workloads.includes('txn') && flags.driver !== 'autocannon') fail('--workloads txn: only with --driver autocannon (wrk\'s script and the Go driver send plain PUTs and GETs)')
if (clients.some((count) => !Number.isInteger(count) || count < 1)) fail('--clients: positive integers')
if (!(durationSeconds > 0)) fail('--duration: seconds above 0')
if (flags.fsync !== 'full' && flags.fsync !== 'off') fail('--fsync: full or off')
if (flags.driver !== 'autocannon' && flags.driver !== 'wrk' && flags.driver !== 'go') fail('--driver: autocannon, wrk or go')
if (flags.driver === 'wrk' && !(await wrkAvailable())) fail('--driver wrk needs wrk on the PATH (Debian: apt-get install -y wrk)')
if (flags['with-etcd'] && flags.driver !== 'go') fail('--with-etcd needs --driver go (the client that speaks both HTTP and etcd\'s gRPC)')
if (flags['paxos-grpc'] && flags.driver !== 'go') fail('--paxos-grpc needs --driver go (the client that speaks etcd\'s gRPC)')
if (flags.keys !== 'random' && flags.keys !== 'sequential') fail('--keys: random or sequential')
const keys: KeyPattern = flags.keys
const valueBytes = flags['value-bytes'] === undefined ? defaultValueBytes : Number(flags['value-bytes'])
if (!Number.isInteger(valueBytes) || valueBytes < 1 || valueBytes > 1024 * 1024) fail('--value-bytes: 1 to 1048576')
if (flags.driver === 'wrk' && valueBytes !== defaultValueBytes) fail('--value-bytes: not with --driver wrk (its script sends 100 bytes)')

type Drive = (options: { url: string; workload: WorkloadName; connections: number; durationSeconds: number; keys: KeyPattern; valueBytes: number }) => Promise<WorkloadResult>
type EtcdDriver = { drive: Drive; populate: (url: string) => Promise<void> }

/**
 * The paxos-kv driver, and the etcd-protocol one when etcd runs beside it or paxos-kv's etcd API
 * is measured (both through the Go binary). A missing Go, etcd client source or etcd fails here,
 * in one line naming the Debian package.
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
    return { paxos: (options) => runGo(goBinary, 'paxos-http', options), etcd: flags['with-etcd'] || flags['paxos-grpc'] ? etcd : null }
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

type Store = { name: string; url: string; drive: Drive }

/**
 * Every cell (workload x clients) on every store, one after the other, the order rotated from
 * cell to cell, so the machine's drift over the run hits all of them alike.
 */
async function measure(stores: readonly Store[]): Promise<WorkloadResult[][]> {
  const results: WorkloadResult[][] = stores.map(() => [])
  let cell = 0
  for (const workload of workloads) {
    for (const connections of clients) {
      for (let turn = 0; turn < stores.length; turn++) {
        const index = (cell + turn) % stores.length
        const store = stores[index]!
        process.stderr.write(`bench: ${store.name} ${workload} with ${connections} clients ... `)
        const result = await store.drive({ url: store.url, workload, connections, durationSeconds, keys, valueBytes })
        process.stderr.write(`${result.opsPerSecond} ops/s, p99 ${result.latencyMsP99} ms, errors ${result.errors}\n`)
        results[index]!.push(result)
      }
      cell += 1
    }
  }
  return results
}

/** The leader's etcd endpoint, from its status (it serves the etcd API when started with --etcd-port). */
async function etcdEndpointOf(url: string): Promise<string> {
  const status = await fetchStatus(url)
  const endpoint = status?.etcdUrl
  if (typeof endpoint !== 'string') fail(`--paxos-grpc: ${url} serves no etcd API (start it with serve --etcd-port)`)
  return endpoint
}

async function main(): Promise<void> {
  const driver = await drivers()
  const cluster = flags.url === undefined
    ? new LocalCluster({
      size: 3, basePort: Number(flags.port), fsync: flags.fsync as 'full' | 'off',
      ...(flags['paxos-grpc'] ? { etcdBasePort: Number(flags.port) + 100 } : {}),
    })
    : null
  cluster?.startAll()
  let etcd: EtcdCluster | null = null
  try {
    if (flags['with-etcd']) etcd = await EtcdCluster.start()
    const urls = cluster?.nodes.map((node) => node.url) ?? [flags.url!]
    // Load goes to the leader on both stores (a follower would forward to it).
    const target = urls[await waitForLeader(urls)]!
    const etcdTarget = etcd === null ? null : await etcd.waitForLeader()
    const grpcTarget = flags['paxos-grpc'] ? await etcdEndpointOf(target) : null
    process.stderr.write(`bench: target ${target}${grpcTarget === null ? '' : ` (etcd API ${grpcTarget})`}${etcdTarget === null ? '' : ` and etcd ${etcdTarget}`}, fsync ${flags.fsync}, ${durationSeconds}s per run, driver ${flags.driver}, ${keys} keys, ${valueBytes}-byte values\n`)
    if (workloads.some((workload) => workload !== 'put' && workload !== 'txn')) {
      await populate(target)
      if (etcdTarget !== null) await driver.etcd?.populate(etcdTarget)
    }
    const electionsBefore = await electionsStarted(urls)
    const stores: Store[] = [{ name: 'paxos-kv', url: target, drive: driver.paxos }]
    if (grpcTarget !== null && driver.etcd !== null) stores.push({ name: 'paxos-grpc', url: grpcTarget, drive: driver.etcd.drive })
    if (etcdTarget !== null && driver.etcd !== null) stores.push({ name: 'etcd', url: etcdTarget, drive: driver.etcd.drive })
    const measured = await measure(stores)
    const resultsOf = (name: string) => measured[stores.findIndex((store) => store.name === name)] ?? null
    const results = resultsOf('paxos-kv')!
    const paxosGrpc = resultsOf('paxos-grpc')
    const etcdResults = resultsOf('etcd') ?? []
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
      paxosGrpc, etcd: etcdReport,
    }
    const columns: StoreColumn[] = stores.map((store, index) => ({ name: store.name, results: measured[index]! }))
    console.log(columns.length === 1 ? formatTable(results) : formatComparisonTable(columns))
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
