/**
 * Goal: the side-by-side table of `npm run bench -- --with-etcd` pairs each paxos-kv cell with
 * etcd's, gives the right ratio, keeps wide columns apart, and refuses lists that do not pair.
 * Method: made-up results (nothing is measured; no time is asserted).
 */
import { describe, expect, it } from 'vitest'
import { formatComparisonTable } from '../../bench/report.js'
import type { WorkloadResult } from '../../bench/workloads.js'

function cell(workload: WorkloadResult['workload'], connections: number, opsPerSecond: number, latencyMsP99 = 1): WorkloadResult {
  return { workload, connections, opsPerSecond, latencyMsP50: 0.5, latencyMsP99, latencyMsP999: 2, requests: opsPerSecond, errors: 0 }
}

describe('formatComparisonTable', () => {
  it('puts both stores of a cell on one row with paxos-kv ops/s over etcd ops/s', () => {
    const table = formatComparisonTable([cell('put', 16, 3000), cell('get', 64, 500)], [cell('put', 16, 1500), cell('get', 64, 0)])
    const [header, put, get] = table.split('\n')
    expect(header).toMatch(/paxos ops\/s +etcd ops\/s +ratio/)
    expect(put!.split(/ +/).slice(0, 5)).toEqual(['put', '16', '3000', '1500', '2.00'])
    // etcd answered nothing in that cell: no ratio rather than Infinity.
    expect(get!.split(/ +/).slice(0, 5)).toEqual(['get', '64', '500', '0', '-'])
  })

  it('keeps a space between paired columns however wide the latencies get', () => {
    const table = formatComparisonTable([cell('put', 64, 1, 266666.24)], [cell('put', 64, 1, 164444.86)])
    expect(table).toContain(' 266666.24 / 164444.86 ')
  })

  it('refuses results whose cells do not pair up', () => {
    expect(() => formatComparisonTable([cell('put', 16, 1)], [cell('put', 64, 1)])).toThrow(/no etcd counterpart/)
    expect(() => formatComparisonTable([cell('put', 16, 1)], [])).toThrow(/no etcd counterpart/)
  })
})
