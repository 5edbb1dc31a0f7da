/**
 * paxos-kv cluster: a local development cluster of N real `serve` processes on consecutive
 * ports. The secret and cluster id are generated once and kept in <data>/cluster.json, so a
 * restart reuses them and the data. Logs are prefixed per node; Ctrl-C/SIGTERM stops all.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { makeDirectory } from '../storage/make-directory.js'

const clusterFileSchema = z.object({ secret: z.string().min(8), clusterId: z.string().regex(/^[\w.-]{1,64}$/), nodes: z.number().int() })
type ClusterIdentity = z.infer<typeof clusterFileSchema>
/** `only`: start just this member of an existing dev cluster (to restart one node that was stopped). */
/** `debugStep`: every node serves with --debug-step (the live page's step-through). */
/** `etcdBasePort`: node i serves the etcd API on it + 10 * (i - 1); 0: no etcd API. */
type ClusterOptions = Readonly<{ nodes: number; basePort: number; dataDir: string; only: number | null; debugStep: boolean; etcdBasePort: number }>

/** By default node i serves the etcd API on 2379 + 10 * (i - 1): etcd's own port for the first. */
const defaultEtcdBasePort = 2379

function etcdPortOf(options: ClusterOptions, id: number): number {
  return options.etcdBasePort + 10 * (id - 1)
}

/** Gives children this long to stop cleanly on SIGTERM before they are killed. */
const stopGraceMs = 5000

function fail(message: string): number {
  process.stderr.write(`paxos-kv cluster: ${message}\n`)
  return 2
}

export function parseClusterArgs(argv: readonly string[]): ClusterOptions | string {
  let values: { nodes: string; port: string; data: string; only?: string; 'debug-step'?: boolean; 'etcd-port': string }
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        nodes: { type: 'string', default: '3' }, port: { type: 'string', default: '7001' }, data: { type: 'string', default: './data' },
        only: { type: 'string' }, 'debug-step': { type: 'boolean' }, 'etcd-port': { type: 'string', default: String(defaultEtcdBasePort) },
      },
    }).values as typeof values
  } catch (error) {
    return (error as Error).message.split('\n')[0] ?? 'bad flags'
  }
  const nodes = /^\d+$/.test(values.nodes) ? Number(values.nodes) : Number.NaN
  const basePort = /^\d+$/.test(values.port) ? Number(values.port) : Number.NaN
  if (!(nodes >= 1 && nodes <= 7)) return '--nodes must be 1 to 7'
  if (!(basePort >= 1 && basePort + nodes - 1 <= 65_535)) return '--port must leave room for every node below 65536'
  if (values.data === '') return '--data must not be empty'
  const only = values.only === undefined ? null : /^\d+$/.test(values.only) ? Number(values.only) : Number.NaN
  if (only !== null && !(only >= 1 && only <= nodes)) return `--only must name a member, 1 to ${nodes}`
  const etcdBasePort = /^\d+$/.test(values['etcd-port']) ? Number(values['etcd-port']) : Number.NaN
  if (!(etcdBasePort === 0 || (etcdBasePort >= 1 && etcdBasePort + 10 * (nodes - 1) <= 65_535))) return '--etcd-port must be 0 (no etcd API) or leave room for every node below 65536'
  return { nodes, basePort, dataDir: resolve(values.data), only, debugStep: values['debug-step'] === true, etcdBasePort }
}

/** The cluster's secret and id: read from <data>/cluster.json, or made once and written there. */
export function loadOrCreateIdentity(dataDir: string, nodes: number): ClusterIdentity | string {
  const path = join(dataDir, 'cluster.json')
  if (existsSync(path)) {
    let raw: unknown
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'))
    } catch (error) {
      return `--data: cannot read ${path}: ${(error as Error).message.split('\n')[0]}`
    }
    const parsed = clusterFileSchema.safeParse(raw)
    if (!parsed.success) return `--data: ${path} is not a paxos-kv cluster file`
    if (parsed.data.nodes !== nodes) return `--nodes: ${dataDir} holds a ${parsed.data.nodes}-node cluster, not ${nodes}`
    return parsed.data
  }
  try {
    makeDirectory(dataDir)
  } catch (error) {
    return `--data: cannot create ${dataDir}: ${(error as Error).message.split('\n')[0]}`
  }
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

function spawnNode(options: ClusterOptions, identity: ClusterIdentity, id: number): ChildProcess {
  const ids = Array.from({ length: options.nodes }, (_, index) => index + 1)
  const spec = ids.map((member) => `${member}=http://127.0.0.1:${options.basePort + member - 1}`).join(',')
  const cli = fileURLToPath(new URL('../cli.js', import.meta.url))
  const args = [cli, 'serve', '--id', String(id), '--port', String(options.basePort + id - 1),
    '--data', join(options.dataDir, String(id)), '--cluster', spec, '--cluster-id', identity.clusterId,
    '--etcd-port', String(options.etcdBasePort === 0 ? 0 : etcdPortOf(options, id)), ...(options.debugStep ? ['--debug-step'] : [])]
  // The secret travels in the environment, not argv, so `ps` does not show it.
  const child = spawn(process.execPath, args, { env: { ...process.env, PAXOS_KV_SECRET: identity.secret }, stdio: ['ignore', 'pipe', 'pipe'] })
  prefixLines(child, `[node ${id}]`)
  return child
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done()
    child.once('exit', () => done())
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), stopGraceMs).unref()
  })
}

/** Runs until SIGINT/SIGTERM (exit 0) or until every node has died on its own (exit 1). */
export async function runCluster(argv: readonly string[]): Promise<number> {
  const options = parseClusterArgs(argv)
  if (typeof options === 'string') return fail(options)
  if (options.only !== null && !existsSync(join(options.dataDir, 'cluster.json'))) {
    return fail(`--only: ${options.dataDir} holds no cluster yet (start the whole cluster once first)`)
  }
  const identity = loadOrCreateIdentity(options.dataDir, options.nodes)
  if (typeof identity === 'string') return fail(identity)
  const ids = options.only === null ? Array.from({ length: options.nodes }, (_, index) => index + 1) : [options.only]
  let stopping = false
  let alive = ids.length
  let allDied = (): void => {}
  const children = ids.map((id) => {
    const child = spawnNode(options, identity, id)
    child.on('exit', (code, signal) => {
      alive -= 1
      if (stopping) return
      process.stdout.write(`[cluster] node ${id} exited unexpectedly (${signal ?? `code ${code}`})\n`)
      if (alive === 0) allDied()
    })
    const etcd = options.etcdBasePort === 0 ? '' : `, etcd 127.0.0.1:${etcdPortOf(options, id)}`
    process.stdout.write(`[cluster] node ${id}: http://127.0.0.1:${options.basePort + id - 1}${etcd} (data ${join(options.dataDir, String(id))})\n`)
    return child
  })
  process.stdout.write(`[cluster] Ctrl-C stops ${ids.length === 1 ? `node ${ids[0]}` : 'all nodes'}\n`)
  const reason = await new Promise<'signal' | 'all-died'>((resolvePromise) => {
    process.once('SIGINT', () => resolvePromise('signal'))
    process.once('SIGTERM', () => resolvePromise('signal'))
    allDied = () => resolvePromise('all-died')
  })
  stopping = true
  await Promise.all(children.map(stopChild))
  process.stdout.write(reason === 'signal' ? '[cluster] stopped\n' : '[cluster] every node exited: stopping\n')
  return reason === 'signal' ? 0 : 1
}
