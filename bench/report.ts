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
  /**
   * With --paxos-grpc: the same cluster driven through its etcd v3 gRPC API (serve --etcd-port) by
   * the Go client's etcd target, cell by cell beside the HTTP figures.
   */
  paxosGrpc: WorkloadResult[] | null
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

/** One store's column of a side-by-side table: its name and its results, in cell order. */
export type StoreColumn = { name: string; results: readonly WorkloadResult[] }

/**
 * Stores side by side, one row per cell (every list is in the same cell order): each store's
 * ops/s, then each other store's throughput over the last store's (the reference: etcd when it
 * runs), then the latencies and errors of all stores joined by " / ".
 */
export function formatComparisonTable(columns: readonly StoreColumn[]): string {
  if (columns.length < 2) throw new Error('comparison: needs at least two stores')
  const reference = columns.at(-1)!
  const others = columns.slice(0, -1)
  const [first] = columns
  for (const column of columns) {
    first!.results.forEach((ours, index) => {
      const theirs = column.results[index]
      if (theirs === undefined || theirs.workload !== ours.workload || theirs.connections !== ours.connections) {
        throw new Error(`comparison: cell ${index} (${ours.workload}, ${ours.connections}) has no ${column.name} counterpart`)
      }
    })
    if (column.results.length !== first!.results.length) throw new Error(`comparison: ${column.name} has cells the others lack`)
  }
  const opsWidth = Math.max(11, ...columns.map((column) => column.name.length + 7)) + 1
  const ratioName = (column: StoreColumn) => `${column.name}/${reference.name}`
  const ratioWidth = Math.max(7, ...others.map((column) => ratioName(column).length)) + 1
  const joinedWidth = columns.length * 10
  // Joined columns can be wide on a slow run: each one starts with a space so they never touch.
  const joined = (values: readonly number[], width: number) => ` ${pad(values.join(' / '), width - 1)}`
  const header = `${'workload'.padEnd(10)}${pad('clients', 8)}` +
    columns.map((column) => pad(`${column.name} ops/s`, opsWidth)).join('') +
    others.map((column) => pad(ratioName(column), ratioWidth)).join('') +
    `${pad('p50 ms', joinedWidth)}${pad('p99 ms', joinedWidth)}${pad('p99.9 ms', joinedWidth)}${pad('errors', joinedWidth)}`
  const rows = first!.results.map((cell, index) => {
    const at = columns.map((column) => column.results[index]!)
    const referenceOps = reference.results[index]!.opsPerSecond
    const ratios = others.map((column) => {
      const ratio = referenceOps === 0 ? '-' : (column.results[index]!.opsPerSecond / referenceOps).toFixed(2)
      return pad(ratio, ratioWidth)
    })
    return `${cell.workload.padEnd(10)}${pad(cell.connections, 8)}` +
      at.map((result) => pad(result.opsPerSecond, opsWidth)).join('') + ratios.join('') +
      joined(at.map((result) => result.latencyMsP50), joinedWidth) + joined(at.map((result) => result.latencyMsP99), joinedWidth) +
      joined(at.map((result) => result.latencyMsP999), joinedWidth) + joined(at.map((result) => result.errors), joinedWidth)
  })
  const names = columns.map((column) => column.name).join(' / ')
  return [header, ...rows, `(latencies and errors: ${names}; ratios: ops/s over ${reference.name}'s)`].join('\n')
}

export function writeReport(report: BenchReport): string {
  const dir = new URL('./results/', import.meta.url)
  mkdirSync(dir, { recursive: true })
  const file = new URL(`bench-${report.startedAt.replace(/[:.]/g, '-')}.json`, dir)
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  return file.pathname
}
