/**
 * `npm run bench`: throughput and latency percentiles against a local 3-node cluster (real
 * processes, fsync on, fresh data dirs) or, with --url, a running cluster. No test asserts a
 * time; the numbers live here.
 *
 *   npm run bench -- [--url http://127.0.0.1:7001] [--workloads put,get,mix] [--clients 1,16,64,256]
 *                    [--duration 5] [--fsync full|off] [--no-failover] [--port 7101]
 *                    [--driver autocannon|wrk] [--keys random|sequential] [--value-bytes 100]
 */
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { electionsStarted, put, waitForLeader } from './cluster-client.js'
import { runFailover, type FailoverResult } from './failover.js'
import { LocalCluster } from './local-cluster.js'
import { formatTable, writeReport } from './report.js'
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
    keys: { type: 'string', default: 'random' },
    'value-bytes': { type: 'string' },
  },
})

const workloads = flags.workloads.split(',') as WorkloadName[]
const clients = flags.clients.split(',').map(Number)
const durationSeconds = Number(flags.duration)
for (const workload of workloads) {
  if (!['put', 'get', 'stale-get', 'mix'].includes(workload)) throw new Error(`--workloads: unknown workload ${workload}`)
}
if (clients.some((count) => !Number.isInteger(count) || count < 1)) throw new Error('--clients: positive integers')
if (flags.fsync !== 'full' && flags.fsync !== 'off') throw new Error('--fsync: full or off')
if (flags.driver !== 'autocannon' && flags.driver !== 'wrk') throw new Error('--driver: autocannon or wrk')
if (flags.driver === 'wrk' && !(await wrkAvailable())) throw new Error('--driver wrk needs wrk on the PATH (Debian: apt-get install -y wrk)')
if (flags.keys !== 'random' && flags.keys !== 'sequential') throw new Error('--keys: random or sequential')
const keys: KeyPattern = flags.keys
const valueBytes = flags['value-bytes'] === undefined ? defaultValueBytes : Number(flags['value-bytes'])
if (!Number.isInteger(valueBytes) || valueBytes < 1 || valueBytes > 1024 * 1024) throw new Error('--value-bytes: 1 to 1048576')
if (flags.driver === 'wrk' && valueBytes !== defaultValueBytes) throw new Error('--value-bytes: only with --driver autocannon (the wrk script sends 100 bytes)')
const drive = flags.driver === 'wrk' ? runWrk : runWorkload

async function populate(url: string): Promise<void> {
  for (let start = 0; start < readKeys; start += 50) {
    const batch = Array.from({ length: Math.min(50, readKeys - start) }, (_, offset) =>
      put(url, `bench/read/${start + offset}`, 'r'.repeat(100)))
    const statuses = await Promise.all(batch)
    if (statuses.some((status) => status !== 200)) throw new Error(`populating read keys failed: ${statuses.join(',')}`)
  }
}

async function main(): Promise<void> {
  const cluster = flags.url === undefined
    ? new LocalCluster({ size: 3, basePort: Number(flags.port), fsync: flags.fsync as 'full' | 'off' })
    : null
  cluster?.startAll()
  try {
    const urls = cluster?.nodes.map((node) => node.url) ?? [flags.url!]
    // Like the etcd comparison, load goes to the leader (a follower would forward to it).
    const target = urls[await waitForLeader(urls)]!
    process.stderr.write(`bench: target ${target}, fsync ${flags.fsync}, ${durationSeconds}s per run, driver ${flags.driver}, ${keys} keys, ${valueBytes}-byte values\n`)
    if (workloads.some((workload) => workload !== 'put')) await populate(target)
    const electionsBefore = await electionsStarted(urls)
    const results: WorkloadResult[] = []
    for (const workload of workloads) {
      for (const connections of clients) {
        process.stderr.write(`bench: ${workload} with ${connections} clients ... `)
        const result = await drive({ url: target, workload, connections, durationSeconds, keys, valueBytes })
        process.stderr.write(`${result.opsPerSecond} ops/s, p99 ${result.latencyMsP99} ms, errors ${result.errors}\n`)
        results.push(result)
      }
    }
    // Spurious elections under load would show here (the failover below starts one on purpose).
    const electionsUnderLoad = (await electionsStarted(urls)) - electionsBefore
    const peakRssMiB = cluster?.peakRssMiB() ?? {}
    let failover: FailoverResult | null = null
    if (cluster !== null && !flags['no-failover']) {
      process.stderr.write('bench: failover (kill -9 the leader under load) ... ')
      failover = await runFailover(cluster)
      process.stderr.write(`${failover.msToFirstWrite} ms to the first write\n`)
    }
    const report = {
      startedAt: new Date().toISOString(), target, fsync: flags.fsync, driver: flags.driver, keys, valueBytes,
      machine: { cpus: cpus().length, node: process.version }, results, electionsUnderLoad, failover, peakRssMiB,
    }
    console.log(formatTable(results))
    if (failover !== null) console.log(`failover: node ${failover.killedNode} killed, node ${failover.newLeader} leads, first write after ${failover.msToFirstWrite} ms`)
    console.log(`elections started during the load runs: ${electionsUnderLoad}`)
    console.log(`peak RSS (MiB) per node: ${JSON.stringify(peakRssMiB)}`)
    console.log(`results: ${writeReport(report)}`)
  } finally {
    cluster?.stop()
  }
}

await main()
