/**
 * paxos-kv cluster: a local development cluster of N real `serve` processes on consecutive
 * ports. The secret and cluster id are generated once and kept in <data>/cluster.json, so a
 * restart reuses them and the data. Logs are prefixed per node; Ctrl-C/SIGTERM stops all.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { z } from 'zod'

const clusterFileSchema = z.object({ secret: z.string().min(8), clusterId: z.string().min(1), nodes: z.number().int() })

function fail(message: string): number {
  process.stderr.write(`paxos-kv cluster: ${message}\n`)
  return 2
}

function loadOrCreateIdentity(dataDir: string, nodes: number): z.infer<typeof clusterFileSchema> | string {
  const path = join(dataDir, 'cluster.json')
  if (existsSync(path)) {
    const parsed = clusterFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')))
    if (!parsed.success) return `--data: ${path} is not a cluster file`
    if (parsed.data.nodes !== nodes) return `--nodes: ${dataDir} holds a ${parsed.data.nodes}-node cluster`
    return parsed.data
  }
  mkdirSync(dataDir, { recursive: true })
  const identity = { secret: randomBytes(24).toString('hex'), clusterId: `dev-${randomBytes(6).toString('hex')}`, nodes }
  writeFileSync(path, `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 })
  return identity
}

function prefixLines(child: ChildProcess, label: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${label} ${line}\n`))
  }
}

export async function runCluster(argv: readonly string[]): Promise<number> {
  let values: { nodes: string; port: string; data: string }
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      options: { nodes: { type: 'string', default: '3' }, port: { type: 'string', default: '7001' }, data: { type: 'string', default: './data' } },
    }).values as typeof values
  } catch (error) {
    return fail((error as Error).message)
  }
  const nodes = Number(values.nodes)
  const basePort = Number(values.port)
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 7) return fail('--nodes must be 1 to 7')
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + nodes - 1 > 65_535) return fail('--port must leave room for every node')
  const dataDir = resolve(values.data)
  const identity = loadOrCreateIdentity(dataDir, nodes)
  if (typeof identity === 'string') return fail(identity)
  const ids = Array.from({ length: nodes }, (_, index) => index + 1)
  const spec = ids.map((id) => `${id}=http://127.0.0.1:${basePort + id - 1}`).join(',')
  const cli = fileURLToPath(new URL('../cli.js', import.meta.url))
  let stopping = false
  const children = ids.map((id) => {
    const child = spawn(process.execPath, [cli, 'serve', '--id', String(id), '--port', String(basePort + id - 1),
      '--data', join(dataDir, String(id)), '--cluster', spec, '--cluster-id', identity.clusterId], {
      env: { ...process.env, PAXOS_KV_SECRET: identity.secret },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    prefixLines(child, `[node ${id}]`)
    child.on('exit', (code, signal) => {
      if (!stopping) process.stdout.write(`[cluster] node ${id} exited unexpectedly (${signal ?? `code ${code}`})\n`)
    })
    process.stdout.write(`[cluster] node ${id}: http://127.0.0.1:${basePort + id - 1} (data ${join(dataDir, String(id))})\n`)
    return child
  })
  process.stdout.write('[cluster] Ctrl-C stops all nodes\n')
  await new Promise<void>((resolvePromise) => {
    process.once('SIGINT', () => resolvePromise())
    process.once('SIGTERM', () => resolvePromise())
  })
  stopping = true
  await Promise.all(children.map((child) => new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done()
    child.once('exit', () => done())
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 5000).unref()
  })))
  process.stdout.write('[cluster] stopped\n')
  return 0
}
