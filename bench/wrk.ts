/**
 * The same workloads driven by wrk (C, one thread per core) instead of autocannon: `--driver
 * wrk`. It leaves more of a small machine's CPU to the cluster (the etcd comparison uses
 * `--driver go`, which also speaks etcd's gRPC). Percentiles come from wrk's own latency
 * histogram, printed as JSON by the Lua script's done().
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { z } from 'zod'
import type { KeyPattern, WorkloadName, WorkloadResult } from './workloads.js'

const script = fileURLToPath(new URL('./wrk/workload.lua', import.meta.url))

const summary = z.object({
  requests: z.number(),
  durationUs: z.number().positive(),
  non2xx: z.number(),
  socketErrors: z.number(),
  p50Us: z.number(),
  p99Us: z.number(),
  p999Us: z.number(),
})

export async function wrkAvailable(): Promise<boolean> {
  try {
    await promisify(execFile)('wrk', ['--version'])
    return true
  } catch (error) {
    // wrk --version exits 1 after printing its version.
    return typeof (error as { stdout?: unknown }).stdout === 'string' && (error as { stdout: string }).stdout.startsWith('wrk')
  }
}

export async function runWrk(options: { url: string; workload: WorkloadName; connections: number; durationSeconds: number; keys: KeyPattern }): Promise<WorkloadResult> {
  const threads = Math.min(2, options.connections)
  const { stdout } = await promisify(execFile)(
    'wrk',
    ['-t', String(threads), '-c', String(options.connections), '-d', `${options.durationSeconds}s`, '-s', script, options.url],
    { env: { ...process.env, WORKLOAD: options.workload, KEYS: options.keys }, maxBuffer: 1 << 20 },
  )
  const line = stdout.split('\n').find((text) => text.startsWith('{'))
  if (line === undefined) throw new Error(`wrk printed no summary:\n${stdout}`)
  const result = summary.parse(JSON.parse(line))
  const ok = result.requests - result.non2xx
  const ms = (us: number) => Math.round(us / 10) / 100
  return {
    workload: options.workload,
    connections: options.connections,
    opsPerSecond: Math.round(ok / (result.durationUs / 1e6)),
    latencyMsP50: ms(result.p50Us),
    latencyMsP99: ms(result.p99Us),
    latencyMsP999: ms(result.p999Us),
    requests: result.requests,
    errors: result.non2xx + result.socketErrors,
  }
}
