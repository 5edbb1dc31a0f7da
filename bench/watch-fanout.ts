/**
 * `npm run bench:watch`: watch fan-out. A fresh local 3-node cluster; PUTs at `--clients` (64)
 * to the leader for `--duration` seconds, first with no watcher (the baseline), then with
 * `--watchers` (1,000) SSE watches of the written prefix open on one follower. Reports the PUT
 * throughput of both runs, the events delivered per second, how many of the events owed arrived,
 * and the lag from a write's acknowledgement (its PUT answer, at this client) to its event at each
 * watcher, p50/p99. The bench process drives the writers and parses every stream, so on a small
 * machine it competes with the nodes for the same cores: the figures are whole-machine figures.
 *
 *   npm run bench:watch -- [--watchers 1000] [--clients 64] [--duration 10] [--port 7601] [--fsync full|off]
 */
import { setMaxListeners } from 'node:events'
import { parseArgs } from 'node:util'
import { build as buildHistogram, type Histogram } from 'hdr-histogram-js'
import { Agent, request } from 'undici'
import { waitForLeader } from './cluster-client.js'
import { LocalCluster } from './local-cluster.js'

const { values: flags } = parseArgs({
  options: {
    watchers: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '64' },
    duration: { type: 'string', default: '10' },
    port: { type: 'string', default: '7601' },
    fsync: { type: 'string', default: 'full' },
  },
})

function fail(message: string): never {
  process.stderr.write(`bench:watch: ${message}\n`)
  process.exit(2)
}

const watcherCount = Number(flags.watchers)
const clientCount = Number(flags.clients)
const durationSeconds = Number(flags.duration)
// The node serves at most 1,024 watch streams (limits.watchersMax); more would be refused there.
if (!Number.isInteger(watcherCount) || watcherCount < 1 || watcherCount > 1024) fail('--watchers: 1 to 1024')
if (!Number.isInteger(clientCount) || clientCount < 1) fail('--clients: a positive integer')
if (!(durationSeconds > 0)) fail('--duration: seconds above 0')
if (flags.fsync !== 'full' && flags.fsync !== 'off') fail('--fsync: full or off')

const prefix = 'bench/watch/'
const value = 'v'.repeat(100)

type PutRun = { acknowledged: number; failed: number; opsPerSecond: number; latency: Histogram; ackAtMs: Map<number, number> }

/** Closed-loop PUTs: each client sends its next PUT when the previous answer arrived. */
async function putLoad(url: string, run: number, recordAcks: boolean): Promise<PutRun> {
  const agent = new Agent({ connections: clientCount, pipelining: 1 })
  const latency = buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  const ackAtMs = new Map<number, number>()
  let acknowledged = 0
  let failed = 0
  const startedAt = performance.now()
  const deadline = startedAt + durationSeconds * 1000
  await Promise.all(Array.from({ length: clientCount }, async (_, client) => {
    for (let counter = 0; performance.now() < deadline; counter++) {
      const sentAt = performance.now()
      try {
        const response = await request(`${url}/v1/kv/${prefix}${run}/${client}/${counter}`, { method: 'PUT', body: value, dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000 })
        const body = (await response.body.json()) as { version?: unknown }
        const at = performance.now()
        if (response.statusCode !== 200 || typeof body.version !== 'number') {
          failed += 1
          continue
        }
        acknowledged += 1
        latency.recordValue(Math.max(1, Math.round((at - sentAt) * 1000)))
        if (recordAcks) ackAtMs.set(body.version, at)
      } catch {
        failed += 1
      }
    }
  }))
  const elapsedSeconds = (performance.now() - startedAt) / 1000
  await agent.close()
  return { acknowledged, failed, opsPerSecond: Math.round(acknowledged / elapsedSeconds), latency, ackAtMs }
}

/**
 * One SSE watch of the prefix. Parses only what the figures need: each event's `id:` (its
 * revision), timed on arrival. Revisions must increase; a repeat or a fall back is counted.
 */
class Watcher {
  events = 0
  outOfOrder = 0
  ended = false
  lastRevision = 0
  readonly #arrivals: { revision: number; atMs: number }[] = []
  #carry = ''

  async open(url: string, agent: Agent, abort: AbortSignal): Promise<void> {
    const response = await request(`${url}/v1/watch?prefix=${encodeURIComponent(prefix)}`, { dispatcher: agent, signal: abort, headersTimeout: 30_000, bodyTimeout: 0 })
    if (response.statusCode !== 200) throw new Error(`watch answered ${response.statusCode}: ${await response.body.text()}`)
    response.body.setEncoding('utf8')
    response.body.on('data', (chunk: string) => this.#take(chunk))
    response.body.on('end', () => { this.ended = true })
    response.body.on('error', () => { this.ended = true })
  }

  #take(chunk: string): void {
    const atMs = performance.now()
    const text = this.#carry + chunk
    let start = 0
    for (;;) {
      const at = text.indexOf('id: ', start)
      if (at === -1) break
      const end = text.indexOf('\n', at)
      if (end === -1) break
      const revision = Number(text.slice(at + 4, end))
      if (revision <= this.lastRevision) this.outOfOrder += 1
      this.lastRevision = revision
      this.events += 1
      this.#arrivals.push({ revision, atMs })
      start = end + 1
    }
    // Keep the tail that may hold a partial `id:` line for the next chunk.
    this.#carry = text.slice(Math.max(start, text.length - 32))
  }

  /** Lags against the acknowledgement times; events whose PUT answer came later count as 0. */
  recordLags(ackAtMs: ReadonlyMap<number, number>, lag: Histogram): { early: number } {
    let early = 0
    for (const arrival of this.#arrivals) {
      const ackedAt = ackAtMs.get(arrival.revision)
      if (ackedAt === undefined) continue
      const lagMicros = Math.round((arrival.atMs - ackedAt) * 1000)
      if (lagMicros < 0) early += 1
      lag.recordValue(Math.max(1, lagMicros))
    }
    this.#arrivals.length = 0
    return { early }
  }
}

function ms(histogram: Histogram, percentile: number): number {
  return Math.round(histogram.getValueAtPercentile(percentile) / 10) / 100
}

async function main(): Promise<void> {
  const basePort = Number(flags.port)
  const cluster = new LocalCluster({ size: 3, basePort, fsync: flags.fsync as 'full' | 'off' })
  cluster.startAll()
  const abort = new AbortController()
  setMaxListeners(watcherCount + 8, abort.signal) // one listener per watch stream, by design
  const watchAgent = new Agent({ connections: watcherCount + 8, pipelining: 1 })
  try {
    const urls = cluster.nodes.map((node) => node.url)
    const leader = urls[await waitForLeader(urls)]!
    const watched = urls.find((url) => url !== leader)!
    process.stderr.write(`bench:watch: leader ${leader}, watchers on ${watched}, ${clientCount} writers, ${durationSeconds}s per run, fsync ${flags.fsync}\n`)

    const baseline = await putLoad(leader, 0, false)
    process.stderr.write(`bench:watch: no watchers: ${baseline.opsPerSecond} PUT/s\n`)

    const watchers = Array.from({ length: watcherCount }, () => new Watcher())
    // Opened a few at a time: each starts behind a read barrier on the leader.
    for (let start = 0; start < watchers.length; start += 50) {
      await Promise.all(watchers.slice(start, start + 50).map((watcher) => watcher.open(watched, watchAgent, abort.signal)))
    }
    process.stderr.write(`bench:watch: ${watcherCount} watchers open\n`)
    const watchStartedAt = performance.now()
    const loaded = await putLoad(leader, 1, true)
    const lastRevision = Math.max(...loaded.ackAtMs.keys())
    // Give the streams time to drain what they still owe (bounded: 30 s).
    const drainDeadline = performance.now() + 30_000
    while (performance.now() < drainDeadline && watchers.some((watcher) => !watcher.ended && watcher.lastRevision < lastRevision)) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const deliveredSeconds = (performance.now() - watchStartedAt) / 1000
    const lag = buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 })
    let early = 0
    for (const watcher of watchers) early += watcher.recordLags(loaded.ackAtMs, lag).early
    const events = watchers.reduce((sum, watcher) => sum + watcher.events, 0)
    const owed = loaded.acknowledged * watcherCount
    const ended = watchers.filter((watcher) => watcher.ended).length
    const outOfOrder = watchers.reduce((sum, watcher) => sum + watcher.outOfOrder, 0)
    console.log(`PUT/s (100-byte values, ${clientCount} clients): ${baseline.opsPerSecond} with no watcher, ${loaded.opsPerSecond} with ${watcherCount} watchers (${(loaded.opsPerSecond / Math.max(1, baseline.opsPerSecond)).toFixed(2)}x)`)
    console.log(`PUT p99 ms: ${ms(baseline.latency, 99)} with no watcher, ${ms(loaded.latency, 99)} with watchers; failed PUTs ${baseline.failed} / ${loaded.failed}`)
    console.log(`events delivered: ${events} of ${owed} owed (${((100 * events) / Math.max(1, owed)).toFixed(1)}%), ${Math.round(events / deliveredSeconds)} events/s over ${deliveredSeconds.toFixed(1)} s`)
    console.log(`lag from acknowledgement to event ms: p50 ${ms(lag, 50)}, p99 ${ms(lag, 99)}, max ${ms(lag, 100)} (${early} events arrived before their PUT's answer, counted as 0)`)
    console.log(`streams ended by the node: ${ended}; events out of order: ${outOfOrder}`)
    console.log(`peak RSS (MiB) per node: ${JSON.stringify(cluster.peakRssMiB())}`)
  } finally {
    abort.abort()
    await watchAgent.destroy().catch(() => undefined)
    cluster.stop()
  }
}

await main()
