/**
 * Real clusters for integration tests: `node dist/cli.js serve` processes on free 127.0.0.1
 * ports with real SQLite files in temp dirs. kill() is SIGKILL (kill -9): nothing is flushed,
 * only what was committed to disk survives.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'
import type { IdentityAnswer } from '../../src/transport/peer-identity.js'
import { LinkProxy } from './link-proxy.js'

export const cliPath = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
export const secret = 'integration-secret'

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 20_000): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = await probe().catch(() => null)
    if (value !== null) return value
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Rejects once the node has exited and its stderr is read (at startup: it refused to start). */
export function exitAsError(child: ChildProcess, id: number, stderr: ReadonlyMap<number, string>): Promise<never> {
  const exited = new Promise<never>((_, reject) => {
    child.once('close', (code, signal) => reject(new Error(`node ${id} exited (${signal ?? `code ${code}`}): ${stderr.get(id) ?? ''}`)))
  })
  exited.catch(() => {}) // a later kill by the test is expected, not an unhandled rejection
  return exited
}

/**
 * `partitionable`: every peer link through a proxy a test can cut; `etcd`: every node serves the
 * etcd API; `logLevel`: the nodes' LOG_LEVEL (default warn; info shows snapshots, fetches and installs).
 */
export type ClusterOptions = { partitionable?: boolean; etcd?: boolean; logLevel?: 'warn' | 'info' }

export type Status = { id: number; role: string; leader: number | null; ballot: { round: number; node: number }; commitIndex: number; appliedIndex: number; revision: number }

export class TestCluster {
  readonly ports: number[]
  /** With `etcd`: each node's etcd API port (serve --etcd-port), else empty. */
  readonly etcdPorts: number[]
  readonly dataRoot = mkdtempSync(join(tmpdir(), 'paxos-kv-it-'))
  readonly #children = new Map<number, ChildProcess>()
  readonly #extraArgs: string[]
  readonly #logLevel: string
  readonly stderr = new Map<number, string>()
  /** With `partitionable`: every directed peer link `from>to` runs through a proxy a test can cut. */
  readonly links = new Map<string, LinkProxy>()
  /** Each node's log lines (JSON, LOG_LEVEL warn and above unless `logLevel` says otherwise), since its last start. */
  readonly stdout = new Map<number, string>()

  private constructor(ports: number[], extraArgs: string[], etcdPorts: number[] = [], logLevel = 'warn') {
    this.ports = ports
    this.etcdPorts = etcdPorts
    this.#extraArgs = extraArgs
    this.#logLevel = logLevel
  }

  /** Cuts (or heals) every link to and from `id`; clients still reach it directly. */
  isolate(id: number, cut = true): void {
    for (const [name, link] of this.links) {
      if (!name.split('>').includes(String(id))) continue
      if (cut) link.cut()
      else link.heal()
    }
  }

  /**
   * A free port can be taken by another program between the probe and the node's bind; then
   * that node exits refusing its --port, and the whole cluster starts over on new ports.
   */
  static async start(size = 3, extraArgs: string[] = [], options: ClusterOptions = {}): Promise<TestCluster> {
    for (let attempt = 1; ; attempt += 1) {
      const ports = await Promise.all(Array.from({ length: size }, () => freePort()))
      const etcdPorts = options.etcd === true ? await Promise.all(Array.from({ length: size }, () => freePort())) : []
      const cluster = new TestCluster(ports, extraArgs, etcdPorts, options.logLevel)
      try {
        if (options.partitionable === true) await cluster.#openLinks()
        const exits = cluster.ids.map((id) => exitAsError(cluster.startNode(id), id, cluster.stderr))
        // Every node up, not just a quorum: a test may stop or kill any of them.
        const up = async (): Promise<void> => {
          for (const id of cluster.ids) await waitFor(`node ${id} to answer`, async () => (await cluster.status(id)) ?? null)
          await cluster.leader()
        }
        const ready = up()
        ready.catch(() => {}) // if a node exits first, the race below reports that instead
        await Promise.race([ready, ...exits])
        return cluster
      } catch (error) {
        const portTaken = [...cluster.stderr.values()].some((text) => /--(etcd-)?port: cannot listen/.test(text))
        await cluster.stop()
        if (!portTaken || attempt === 3) throw error
      }
    }
  }

  /** A port for one more node (its id is the next one); it joins with `member add` and --join. */
  async addPort(): Promise<number> {
    this.ports.push(await freePort())
    return this.ports.length
  }

  get ids(): number[] {
    return this.ports.map((_, index) => index + 1)
  }

  url(id: number): string {
    return `http://127.0.0.1:${this.ports[id - 1]}`
  }

  /** Node `id`'s etcd endpoint, host:port as etcdctl's --endpoints takes it. */
  etcdEndpoint(id: number): string {
    const port = this.etcdPorts[id - 1]
    if (port === undefined) throw new Error('this cluster was started without etcd ports')
    return `127.0.0.1:${port}`
  }

  /** The member list as node `self` sees it: its peers behind their link proxies, if any. */
  spec(self?: number): string {
    const address = (id: number) => {
      const link = self === undefined || id === self ? undefined : this.links.get(`${self}>${id}`)
      return link === undefined ? this.url(id) : `http://127.0.0.1:${link.port}`
    }
    return this.ids.map((id) => `${id}=${address(id)}`).join(',')
  }

  serveArgs(id: number, dataDir = join(this.dataRoot, String(id))): string[] {
    // Behind proxies each node has its own member list, so the cluster id must be given.
    const clusterId = this.links.size === 0 ? [] : ['--cluster-id', 'integration']
    const etcd = this.etcdPorts.length === 0 ? [] : ['--etcd-port', String(this.etcdPorts[id - 1])]
    return [cliPath, 'serve', '--id', String(id), '--port', String(this.ports[id - 1]), '--data', dataDir, '--cluster', this.spec(id), '--secret', secret, ...clusterId, ...etcd, ...this.#extraArgs]
  }

  startNode(id: number, args: readonly string[] = this.serveArgs(id)): ChildProcess {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: this.#logLevel } })
    this.stderr.set(id, '')
    this.stdout.set(id, '')
    child.stderr?.on('data', (chunk: Buffer) => this.stderr.set(id, (this.stderr.get(id) ?? '') + chunk.toString()))
    child.stdout?.on('data', (chunk: Buffer) => this.stdout.set(id, (this.stdout.get(id) ?? '') + chunk.toString()))
    this.#children.set(id, child)
    return child
  }

  /** kill -9: no shutdown code runs. */
  async kill(id: number): Promise<void> {
    const child = this.#children.get(id)
    this.#children.delete(id)
    if (child === undefined || child.exitCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGKILL')
    })
  }

  /** SIGTERM: a clean shutdown. Resolves with the exit code. */
  async terminate(id: number): Promise<number | null> {
    const child = this.#children.get(id)
    this.#children.delete(id)
    if (child === undefined || child.exitCode !== null) return child?.exitCode ?? null
    return new Promise((resolve) => {
      child.once('exit', (code) => resolve(code))
      child.kill('SIGTERM')
    })
  }

  /** SIGSTOP / SIGCONT: the process freezes (a long GC pause, a stopped VM) and resumes as it was. */
  signal(id: number, signal: 'SIGSTOP' | 'SIGCONT'): void {
    const child = this.#children.get(id)
    if (child === undefined || child.exitCode !== null) throw new Error(`node ${id} is not running`)
    child.kill(signal)
  }

  /** One series of the node's /metrics, by its exact name. */
  async metric(id: number, series: string): Promise<number | null> {
    const response = await fetch(`${this.url(id)}/metrics`, { signal: AbortSignal.timeout(5000) })
    return sample(await response.text(), series)
  }

  async restart(id: number): Promise<void> {
    await this.kill(id)
    this.startNode(id)
    await waitFor(`node ${id} to answer`, async () => (await this.status(id)) ?? null)
  }

  async #openLinks(): Promise<void> {
    for (const from of this.ids) {
      for (const to of this.ids) if (from !== to) this.links.set(`${from}>${to}`, await LinkProxy.open(this.ports[to - 1]!))
    }
  }

  /** What node `id` says to node `asker` about itself (GET /peer/identity): its cluster id, and the incarnation it knows for `asker`. */
  async identity(id: number, asker: number): Promise<IdentityAnswer> {
    const response = await fetch(`${this.url(id)}/peer/identity`, { headers: { 'x-paxos-secret': secret, 'x-paxos-node': String(asker) }, signal: AbortSignal.timeout(5000) })
    if (!response.ok) throw new Error(`node ${id} answered ${response.status} to /peer/identity`)
    return (await response.json()) as IdentityAnswer
  }

  async status(id: number): Promise<Status | null> {
    try {
      const response = await fetch(`${this.url(id)}/v1/status`, { signal: AbortSignal.timeout(1000) })
      return response.ok ? ((await response.json()) as Status) : null
    } catch {
      return null
    }
  }

  /** The id of the node that every live node agrees leads. */
  async leader(among: readonly number[] = this.ids): Promise<number> {
    return waitFor('a leader', async () => {
      const statuses = await Promise.all(among.map((id) => this.status(id)))
      const leaders = statuses.filter((status) => status?.role === 'leader')
      return leaders.length === 1 ? leaders[0]!.id : null
    })
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#children.keys()].map((id) => this.kill(id)))
    await Promise.all([...this.links.values()].map((link) => link.close()))
    rmSync(this.dataRoot, { recursive: true, force: true })
  }
}

/** The value of one series in a Prometheus text exposition, or null when it is absent. */
export function sample(text: string, series: string): number | null {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `))
  return line === undefined ? null : Number(line.slice(series.length + 1))
}

export async function put(url: string, key: string, value: string, headers: Record<string, string> = {}, timeoutMs = 15_000): Promise<Response> {
  return fetch(`${url}/v1/kv/${key}`, { method: 'PUT', body: value, headers, signal: AbortSignal.timeout(timeoutMs) })
}

export async function get(url: string, key: string, query = ''): Promise<Response> {
  return fetch(`${url}/v1/kv/${key}${query}`, { signal: AbortSignal.timeout(15_000) })
}

/** Retries a write until it succeeds (a leader change can make one attempt fail with 503). */
export async function putEventually(url: string, key: string, value: string, headers: Record<string, string> = {}): Promise<{ version: number }> {
  return waitFor(`PUT ${key}`, async () => {
    const response = await put(url, key, value, headers)
    return response.status === 200 ? ((await response.json()) as { version: number }) : null
  }, 30_000)
}

/** One cluster per test, always stopped afterwards, also when the test fails. */
export function clusterPerTest(): (size?: number, extraArgs?: string[], options?: ClusterOptions) => Promise<TestCluster> {
  let current: TestCluster | null = null
  afterEach(async () => {
    await current?.stop()
    current = null
  })
  return async (size = 3, extraArgs = [], options = {}) => (current = await TestCluster.start(size, extraArgs, options))
}
