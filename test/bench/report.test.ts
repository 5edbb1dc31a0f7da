/**
 * Goal: the side-by-side table of `npm run bench -- --with-etcd [--paxos-grpc]` pairs each cell
 * of every store, gives each store's throughput over the reference's (the last column: etcd),
 * keeps wide columns apart, and refuses lists that do not pair.
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
    const table = formatComparisonTable([
      { name: 'paxos-kv', results: [cell('put', 16, 3000), cell('get', 64, 500)] },
      { name: 'etcd', results: [cell('put', 16, 1500), cell('get', 64, 0)] },
    ])
    const [header, put, get] = table.split('\n')
    expect(header).toMatch(/paxos-kv ops\/s +etcd ops\/s +paxos-kv\/etcd/)
    expect(put!.split(/ +/).slice(0, 5)).toEqual(['put', '16', '3000', '1500', '2.00'])
    // etcd answered nothing in that cell: no ratio rather than Infinity.
    expect(get!.split(/ +/).slice(0, 5)).toEqual(['get', '64', '500', '0', '-'])
  })

  it('gives every other store its own ratio over the last store, and joins latencies in column order', () => {
    const table = formatComparisonTable([
      { name: 'paxos-kv', results: [cell('put', 64, 3000, 7)] },
      { name: 'paxos-grpc', results: [cell('put', 64, 4500, 5)] },
      { name: 'etcd', results: [cell('put', 64, 1500, 9)] },
    ])
    const [header, put, legend] = table.split('\n')
    expect(header).toMatch(/paxos-kv ops\/s +paxos-grpc ops\/s +etcd ops\/s +paxos-kv\/etcd +paxos-grpc\/etcd/)
    expect(put!.split(/ +/).slice(0, 7)).toEqual(['put', '64', '3000', '4500', '1500', '2.00', '3.00'])
    expect(put).toContain(' 7 / 5 / 9 ')
    expect(legend).toContain('paxos-kv / paxos-grpc / etcd')
  })

  it('keeps a space between joined columns however wide the latencies get', () => {
    const table = formatComparisonTable([
      { name: 'paxos-kv', results: [cell('put', 64, 1, 266666.24)] },
      { name: 'etcd', results: [cell('put', 64, 1, 164444.86)] },
    ])
    expect(table).toContain(' 266666.24 / 164444.86 ')
  })

  it('refuses results whose cells do not pair up, and a single store', () => {
    expect(() => formatComparisonTable([{ name: 'paxos-kv', results: [cell('put', 16, 1)] }, { name: 'etcd', results: [cell('put', 64, 1)] }])).toThrow(/no etcd counterpart/)
    expect(() => formatComparisonTable([{ name: 'paxos-kv', results: [cell('put', 16, 1)] }, { name: 'etcd', results: [] }])).toThrow(/no etcd counterpart/)
    expect(() => formatComparisonTable([{ name: 'paxos-kv', results: [] }, { name: 'etcd', results: [cell('put', 16, 1)] }])).toThrow(/cells the others lack/)
    expect(() => formatComparisonTable([{ name: 'paxos-kv', results: [cell('put', 16, 1)] }])).toThrow(/at least two/)
  })
})
