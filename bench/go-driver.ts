/**
 * `--driver go`: the workloads driven by bench/load-go, the Go load generator, which speaks
 * paxos-kv's HTTP (`paxos-http`) and etcd's v3 gRPC (`etcd-grpc`) with one closed loop and one
 * latency histogram, so the two stores face the same client. It is built offline from Debian's
 * packages by bench/load-go/build.sh, which names the package that is missing.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { z } from 'zod'
import type { WorkloadResult, WorkloadRunOptions } from './workloads.js'

const buildScript = fileURLToPath(new URL('./load-go/build.sh', import.meta.url))

export type GoTarget = 'paxos-http' | 'etcd-grpc'

const summary = z.object({
  target: z.enum(['paxos-http', 'etcd-grpc']),
  workload: z.enum(['put', 'get', 'stale-get', 'mix']),
  connections: z.number().int().positive(),
  requests: z.number().int().nonnegative(),
  opsPerSecond: z.number().nonnegative(),
  latencyMsP50: z.number().nonnegative(),
  latencyMsP99: z.number().nonnegative(),
  latencyMsP999: z.number().nonnegative(),
  errors: z.number().int().nonnegative(),
  errorsByKind: z.record(z.string(), z.number().int().nonnegative()),
})

/**
 * Builds (or, with Go's cache, merely checks) the binary and returns its path. A missing
 * prerequisite fails with build.sh's one line, which names the Debian package.
 */
export async function buildGoDriver(): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('bash', [buildScript], { maxBuffer: 1 << 20 })
    return stdout.trim().split('\n').at(-1)!
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim()
    throw new Error(stderr === '' ? `bench/load-go/build.sh failed: ${String(error)}` : stderr)
  }
}

async function runBinary(binary: string, args: string[]): Promise<unknown> {
  try {
    const { stdout } = await promisify(execFile)(binary, args, { maxBuffer: 1 << 20 })
    const line = stdout.split('\n').find((text) => text.startsWith('{'))
    if (line === undefined) throw new Error(`load-go printed no summary:\n${stdout}`)
    return JSON.parse(line)
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim()
    throw new Error(stderr === '' ? String(error) : stderr)
  }
}

/**
 * Writes the keys the read workloads read (bench/read/0 .. keys-1, default the read
 * workloads' 1000), through the target's own protocol.
 */
export async function populateWithGo(binary: string, target: GoTarget, endpoint: string, options: { keys?: number; clients?: number; valueBytes?: number } = {}): Promise<void> {
  await runBinary(binary, [
    '-target', target, '-endpoints', endpoint, '-clients', String(options.clients ?? 16), '-populate',
    ...(options.keys === undefined ? [] : ['-read-keys', String(options.keys)]),
    ...(options.valueBytes === undefined ? [] : ['-value-bytes', String(options.valueBytes)]),
  ])
}

/** `keySpace`: PUTs overwrite that many keys instead of writing new ones (load-go -key-space). */
export type GoRunOptions = WorkloadRunOptions & Readonly<{ keySpace?: number }>

export async function runGo(binary: string, target: GoTarget, options: GoRunOptions): Promise<WorkloadResult> {
  const result = summary.parse(await runBinary(binary, [
    '-target', target, '-endpoints', options.url, '-clients', String(options.connections),
    '-duration', `${options.durationSeconds}s`, '-workload', options.workload, '-keys', options.keys,
    ...(options.keySpace === undefined ? [] : ['-key-space', String(options.keySpace)]),
    ...(options.valueBytes === undefined ? [] : ['-value-bytes', String(options.valueBytes)]),
  ]))
  return {
    workload: result.workload,
    connections: result.connections,
    opsPerSecond: result.opsPerSecond,
    latencyMsP50: result.latencyMsP50,
    latencyMsP99: result.latencyMsP99,
    latencyMsP999: result.latencyMsP999,
    requests: result.requests,
    errors: result.errors,
    errorsByKind: result.errorsByKind,
  }
}
