/**
 * `npm run bench:leases`: lease keepalive capacity. A fresh local 3-node cluster; `--leases`
 * (10,000) leases of `--ttl` seconds (10) are granted, then `--clients` (64) closed-loop clients
 * keep every one alive for `--duration` seconds (30): each client owns a share of the leases and
 * sends the keepalive of the lease whose refresh is due soonest (a third of the TTL after its
 * last one, as etcd's client does), or the next one at once when it has fallen behind. Run once
 * against the leader and once through a follower (which forwards keepalives to the leader).
 * Reports keepalives/s, their latency p50/p99, the longest gap between two keepalives of one
 * lease, and how many leases the leader still holds at the end: all of them, or the capacity was
 * not enough.
 *
 *   npm run bench:leases -- [--leases 10000] [--ttl 10] [--clients 64] [--duration 30] [--port 7701] [--fsync full|off]
 */
import { parseArgs } from 'node:util'
import { build as buildHistogram, type Histogram } from 'hdr-histogram-js'
import { Agent, request } from 'undici'
import { waitForLeader } from './cluster-client.js'
import { LocalCluster } from './local-cluster.js'

const { values: flags } = parseArgs({
  options: {
    leases: { type: 'string', default: '10000' },
    ttl: { type: 'string', default: '10' },
    clients: { type: 'string', default: '64' },
    duration: { type: 'string', default: '30' },
    port: { type: 'string', default: '7701' },
    fsync: { type: 'string', default: 'full' },
  },
})

function fail(message: string): never {
  process.stderr.write(`bench:leases: ${message}\n`)
  process.exit(2)
}

const leaseCount = Number(flags.leases)
const ttlSeconds = Number(flags.ttl)
const clientCount = Number(flags.clients)
const durationSeconds = Number(flags.duration)
if (!Number.isInteger(leaseCount) || leaseCount < 1) fail('--leases: a positive integer')
if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 86_400) fail('--ttl: 1 to 86400 seconds (api.md)')
if (!Number.isInteger(clientCount) || clientCount < 1) fail('--clients: a positive integer')
if (!(durationSeconds > 0)) fail('--duration: seconds above 0')
if (flags.fsync !== 'full' && flags.fsync !== 'off') fail('--fsync: full or off')

async function postJson(url: string, agent: Agent, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await request(url, {
    method: 'POST', dispatcher: agent, body: body === undefined ? null : JSON.stringify(body),
    headers: { 'content-type': 'application/json' }, headersTimeout: 10_000, bodyTimeout: 10_000,
  })
  return { status: response.statusCode, body: await response.body.json() }
}

/** A lease and when it was last granted or kept alive (its countdown's start, as this client saw it). */
type Granted = { id: string; atMs: number }

async function grantAll(url: string, agent: Agent): Promise<Granted[]> {
  const ids: Granted[] = []
  let next = 0
  await Promise.all(Array.from({ length: clientCount }, async () => {
    while (next < leaseCount) {
      next += 1
      for (let attempt = 0; ; attempt++) {
        const answer = await postJson(`${url}/v1/leases`, agent, { ttlSeconds })
        const id = (answer.body as { id?: unknown }).id
        if (answer.status === 200 && typeof id === 'string') {
          ids.push({ id, atMs: performance.now() })
          break
        }
        // A grant retried after an error may leave an unused lease behind: harmless here.
        if (attempt === 4) throw new Error(`granting a lease answered ${answer.status}: ${JSON.stringify(answer.body)}`)
      }
    }
  }))
  return ids
}

type KeepaliveRun = { sent: number; failed: number; opsPerSecond: number; latency: Histogram; longestGapMs: number }

async function keepAll(url: string, agent: Agent, ids: readonly Granted[]): Promise<KeepaliveRun> {
  const refreshMs = (ttlSeconds * 1000) / 3
  const latency = buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  let sent = 0
  let failed = 0
  let longestGapMs = 0
  const startedAt = performance.now()
  const deadline = startedAt + durationSeconds * 1000
  await Promise.all(Array.from({ length: clientCount }, async (_, client) => {
    // This client's leases, in the order they fall due (the order they were granted in).
    // `atMs` moves on with each keepalive, so the next run goes on from where this one left off.
    const mine = ids.filter((_, index) => index % clientCount === client)
    for (let turn = 0; performance.now() < deadline && mine.length > 0; turn = (turn + 1) % mine.length) {
      const lease = mine[turn]!
      const dueInMs = lease.atMs + refreshMs - performance.now()
      if (dueInMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(dueInMs, deadline - performance.now())))
      if (performance.now() >= deadline) break
      const sentAt = performance.now()
      try {
        const answer = await postJson(`${url}/v1/leases/${lease.id}/keepalive`, agent, undefined)
        if (answer.status !== 200) {
          failed += 1
          continue
        }
        const at = performance.now()
        sent += 1
        latency.recordValue(Math.max(1, Math.round((at - sentAt) * 1000)))
        longestGapMs = Math.max(longestGapMs, at - lease.atMs)
        lease.atMs = at
      } catch {
        failed += 1
      }
    }
  }))
  return { sent, failed, opsPerSecond: Math.round(sent / ((performance.now() - startedAt) / 1000)), latency, longestGapMs }
}

async function leasesHeld(url: string, agent: Agent): Promise<number> {
  const response = await request(`${url}/v1/leases`, { dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000 })
  const body = (await response.body.json()) as { leases?: unknown[] }
  if (response.statusCode !== 200 || !Array.isArray(body.leases)) throw new Error(`GET /v1/leases answered ${response.statusCode}`)
  return body.leases.length
}

function ms(histogram: Histogram, percentile: number): number {
  return Math.round(histogram.getValueAtPercentile(percentile) / 10) / 100
}

async function main(): Promise<void> {
  const cluster = new LocalCluster({ size: 3, basePort: Number(flags.port), fsync: flags.fsync as 'full' | 'off' })
  cluster.startAll()
  const agent = new Agent({ connections: clientCount + 4, pipelining: 1 })
  try {
    const urls = cluster.nodes.map((node) => node.url)
    const leader = urls[await waitForLeader(urls)]!
    const follower = urls.find((url) => url !== leader)!
    const grantStartedAt = performance.now()
    const ids = await grantAll(leader, agent)
    const grantSeconds = (performance.now() - grantStartedAt) / 1000
    console.log(`granted ${ids.length} leases of ${ttlSeconds} s in ${grantSeconds.toFixed(1)} s (${Math.round(ids.length / grantSeconds)}/s, each a log write); the leader holds ${await leasesHeld(leader, agent)}`)
    const needed = Math.round(ids.length / ((ttlSeconds * 1000) / 3 / 1000))
    console.log(`keepalives needed to refresh each at a third of its TTL: ${needed}/s`)
    for (const [name, url] of [['leader', leader], ['follower (forwarded)', follower]] as const) {
      const run = await keepAll(url, agent, ids)
      const held = await leasesHeld(leader, agent)
      console.log(`${name}: ${run.opsPerSecond} keepalives/s, p50 ${ms(run.latency, 50)} ms, p99 ${ms(run.latency, 99)} ms, failed ${run.failed}, longest gap between two keepalives of one lease ${Math.round(run.longestGapMs)} ms (TTL ${ttlSeconds * 1000} ms); leases held after ${durationSeconds} s: ${held} of ${ids.length}`)
    }
    console.log(`peak RSS (MiB) per node: ${JSON.stringify(cluster.peakRssMiB())}`)
  } finally {
    await agent.close()
    cluster.stop()
  }
}

await main()
