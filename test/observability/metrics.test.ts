/**
 * Metric names: one `paxos_kv_` prefix, also on prom-client's process and Node.js series (whose
 * own names already begin with `process_` and `nodejs_`).
 */
import { describe, expect, it } from 'vitest'
import { createMetrics } from '../../src/observability/metrics.js'

describe('metric names', () => {
  it('prefix the default process and Node.js series once', async () => {
    const text = await createMetrics().registry.metrics()
    expect(text).toMatch(/^paxos_kv_process_cpu_user_seconds_total /m)
    expect(text).toMatch(/^paxos_kv_nodejs_eventloop_lag_seconds /m)
    expect(text).not.toContain('process_process')
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!)
    expect(names.length).toBeGreaterThan(20)
    for (const name of names) expect(name).toMatch(/^paxos_kv_[a-z]/)
  })
})
