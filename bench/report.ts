/**
 * One format for results: a table on stdout and the same data as JSON under bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import type { FailoverResult } from './failover.js'
import type { WorkloadResult } from './workloads.js'

export type BenchReport = {
  startedAt: string
  target: string
  fsync: string
  driver: string
  keys: string
  machine: { cpus: number; node: string }
  results: WorkloadResult[]
  electionsUnderLoad: number
  failover: FailoverResult | null
  peakRssMiB: Record<string, number | null>
  /** With --with-etcd: etcd measured in the same run, cell by cell, by the same client. */
  etcd: EtcdReport | null
}

export type EtcdReport = {
  version: string
  target: string
  protocol: 'grpc'
  results: WorkloadResult[]
  peakRssMiB: Record<string, number | null>
}

function pad(text: string | number, width: number): string {
  return String(text).padStart(width)
}

export function formatTable(results: readonly WorkloadResult[]): string {
  const header = `${'workload'.padEnd(10)}${pad('clients', 8)}${pad('ops/s', 9)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('p99.9 ms', 10)}${pad('errors', 8)}`
  const rows = results.map((result) =>
    `${result.workload.padEnd(10)}${pad(result.connections, 8)}${pad(result.opsPerSecond, 9)}` +
    `${pad(result.latencyMsP50, 9)}${pad(result.latencyMsP99, 9)}${pad(result.latencyMsP999, 10)}${pad(result.errors, 8)}`,
  )
  return [header, ...rows].join('\n')
}

/**
 * paxos-kv and etcd side by side, one row per cell (the two lists are in the same cell order),
 * with the throughput ratio paxos-kv / etcd.
 */
export function formatComparisonTable(paxos: readonly WorkloadResult[], etcd: readonly WorkloadResult[]): string {
  // Paired columns can be wide on a slow run: each one starts with a space so they never touch.
  const both = (a: number, b: number, width: number) => ` ${pad(`${a} / ${b}`, width - 1)}`
  const header = `${'workload'.padEnd(10)}${pad('clients', 8)}` +
    `${pad('paxos ops/s', 12)}${pad('etcd ops/s', 11)}${pad('ratio', 7)}` +
    `${pad('p50 ms', 16)}${pad('p99 ms', 18)}${pad('p99.9 ms', 18)}${pad('errors', 12)}`
  const rows = paxos.map((ours, index) => {
    const theirs = etcd[index]
    if (theirs === undefined || theirs.workload !== ours.workload || theirs.connections !== ours.connections) {
      throw new Error(`comparison: cell ${index} (${ours.workload}, ${ours.connections}) has no etcd counterpart`)
    }
    const ratio = theirs.opsPerSecond === 0 ? '-' : (ours.opsPerSecond / theirs.opsPerSecond).toFixed(2)
    return `${ours.workload.padEnd(10)}${pad(ours.connections, 8)}` +
      `${pad(ours.opsPerSecond, 12)}${pad(theirs.opsPerSecond, 11)}${pad(ratio, 7)}` +
      `${both(ours.latencyMsP50, theirs.latencyMsP50, 16)}${both(ours.latencyMsP99, theirs.latencyMsP99, 18)}` +
      `${both(ours.latencyMsP999, theirs.latencyMsP999, 18)}${both(ours.errors, theirs.errors, 12)}`
  })
  return [header, ...rows, '(latencies and errors: paxos-kv / etcd; ratio: paxos-kv ops/s over etcd ops/s)'].join('\n')
}

export function writeReport(report: BenchReport): string {
  const dir = new URL('./results/', import.meta.url)
  mkdirSync(dir, { recursive: true })
  const file = new URL(`bench-${report.startedAt.replace(/[:.]/g, '-')}.json`, dir)
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  return file.pathname
}
