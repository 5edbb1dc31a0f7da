/**
 * A throwaway local cluster for the bench: real `paxos-kv serve` processes from dist/, fresh
 * data dirs, fsync on unless asked otherwise. Knows each child's pid, so it can report peak RSS
 * and kill -9 a node for the failover scenario.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

export type ClusterNode = { id: number; url: string; process: ChildProcess | null }

export class LocalCluster {
  readonly nodes: ClusterNode[]
  readonly #dataRoot: string
  readonly #args: (id: number) => string[]
  readonly #joinArgs: (id: number, via: string) => string[]

  /**
   * `etcdBasePort`: when set, node i also serves the etcd v3 gRPC API on etcdBasePort + i - 1
   * (serve --etcd-port), so the bench can drive paxos-kv through etcd's own client too.
   * `serveArgs`: more `serve` flags for every node (e.g. --log-retain-slots).
   */
  constructor(options: { size: number; basePort: number; fsync: 'full' | 'off'; etcdBasePort?: number; serveArgs?: readonly string[] }) {
    this.#dataRoot = mkdtempSync(join(tmpdir(), 'paxos-kv-bench-'))
    this.nodes = Array.from({ length: options.size }, (_, index) => ({
      id: index + 1,
      url: `http://127.0.0.1:${options.basePort + index}`,
      process: null,
    }))
    const spec = this.nodes.map((node) => `${node.id}=${node.url}`).join(',')
    const common = (id: number) => [
      '--id', String(id), '--port', String(options.basePort + id - 1), '--data', join(this.#dataRoot, String(id)), '--fsync', options.fsync,
      ...(options.etcdBasePort === undefined ? [] : ['--etcd-port', String(options.etcdBasePort + id - 1)]),
      ...(options.serveArgs ?? []),
    ]
    this.#args = (id) => [cli, 'serve', ...common(id), '--cluster', spec]
    this.#joinArgs = (id, via) => [cli, 'serve', ...common(id), '--join', via]
  }

  start(id: number): void {
    this.#spawn(id, this.#args(id))
  }

  /** Starts node `id` as a member added to the running cluster: it learns the members from `via` (serve --join). */
  startJoining(id: number, via: string): void {
    this.#spawn(id, this.#joinArgs(id, via))
  }

  /** Deletes a stopped node's data directory (a lost disk). */
  wipe(id: number): void {
    if (this.#node(id).process !== null) throw new Error(`node ${id} is running`)
    rmSync(this.dataDir(id), { recursive: true, force: true })
  }

  #spawn(id: number, args: readonly string[]): void {
    const node = this.#node(id)
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, PAXOS_KV_SECRET: 'bench-secret', LOG_LEVEL: 'warn' },
    })
    node.process = child
  }

  startAll(): void {
    for (const node of this.nodes) this.start(node.id)
  }

  kill(id: number): void {
    const node = this.#node(id)
    node.process?.kill('SIGKILL')
    node.process = null
  }

  /** kill -9, resolved once the process is gone (its data directory is then free to read). */
  async killAndWait(id: number): Promise<void> {
    const child = this.#node(id).process
    this.kill(id)
    if (child !== null && child.exitCode === null && child.signalCode === null) await once(child, 'exit')
  }

  /** Peak resident set size (VmHWM) of each running node, in MiB. */
  peakRssMiB(): Record<string, number | null> {
    return this.#perNode((pid) => readStatusMiB(pid, 'VmHWM'))
  }

  /** Resident set size now (VmRSS) of each running node, in MiB. */
  rssMiB(): Record<string, number | null> {
    return this.#perNode((pid) => readStatusMiB(pid, 'VmRSS'))
  }

  dataDir(id: number): string {
    return join(this.#dataRoot, String(this.#node(id).id))
  }

  #perNode(read: (pid: number) => number | null): Record<string, number | null> {
    const result: Record<string, number | null> = {}
    for (const node of this.nodes) {
      const pid = node.process?.pid
      result[String(node.id)] = pid === undefined ? null : read(pid)
    }
    return result
  }

  stop(): void {
    for (const node of this.nodes) this.kill(node.id)
    rmSync(this.#dataRoot, { recursive: true, force: true })
  }

  #node(id: number): ClusterNode {
    const node = this.nodes.find((candidate) => candidate.id === id)
    if (node === undefined) throw new Error(`no node ${id}`)
    return node
  }
}

/** Peak resident set size (VmHWM) of a process, in MiB; null once it is gone. */
export function readPeakRssMiB(pid: number): number | null {
  return readStatusMiB(pid, 'VmHWM')
}

/** One memory field of /proc/PID/status, in MiB; null once the process is gone. */
function readStatusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)
    return match === null ? null : Math.round(Number(match[1]) / 1024)
  } catch {
    return null
  }
}
