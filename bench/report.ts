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

export function writeReport(report: BenchReport): string {
  const dir = new URL('./results/', import.meta.url)
  mkdirSync(dir, { recursive: true })
  const file = new URL(`bench-${report.startedAt.replace(/[:.]/g, '-')}.json`, dir)
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  return file.pathname
}
