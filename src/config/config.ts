/**
 * `paxos-kv serve` flags and environment → one frozen Config. Every error names its flag; the
 * CLI prints it on one line and exits 2 before anything is written.
 * @module
 */
import { parseArgs } from 'node:util'
import { z } from 'zod'
import type { ChosenConfig } from '../core/configuration.js'
import type { NodeId } from '../core/ids.js'
import { limits } from '../core/limits.js'
import { logLevels, type LogLevel } from '../observability/logger.js'
import { ConfigError, parseClusterSpec, urlPort, type Member } from './cluster-spec.js'

export type Config = Readonly<{
  id: NodeId
  host: string
  port: number
  dataDir: string
  /** --cluster's members; empty with --join until the cluster names them (cli/serve.ts). */
  members: readonly Member[]
  /** --join URL: a current member to learn the cluster from (this node was added with `member add`). */
  join: string | null
  /**
   * --cluster-id, or null: the id then comes from the data directory, where it was stored when
   * the directory was made (node/fresh-start-decision.ts says how a new one is chosen).
   */
  clusterId: string | null
  secret: string
  /** True when no secret was given and the built-in development secret is in use. */
  insecureSecret: boolean
  fsync: 'full' | 'off'
  requestTimeoutMs: number
  tickMs: number
  valueBytesMax: number
  /** A snapshot is written after this many applied slots, writes or command bytes, whichever first. */
  snapshotEverySlots: number
  snapshotEveryWrites: number
  snapshotEveryBytes: number
  /** Bytes a snapshot chunk aims at (written, streamed and installed one at a time). */
  snapshotChunkBytes: number
  /** Chosen slots the log keeps behind the newest durable snapshot; older ones are truncated. */
  logRetainSlots: number
  /** Live data past which puts answer 507 quota_exceeded. */
  quotaBytes: number
  /** Revisions of changes this node keeps for watch (`--history-revisions`); older ones answer 410. */
  historyRevisions: number
  /** From env LOG_LEVEL. */
  logLevel: LogLevel
  /** serve --debug-step: the hold/release/drop routes for this node's outgoing peer messages. */
  debugStep: boolean
  /** serve --etcd-port: the etcd v3 gRPC API's port on --host; 0 (the default): not served. */
  etcdPort: number
}>

/**
 * A node's configuration once its cluster id is known (given, stored, or learned from its peers).
 * `bootstrap`: the members it starts with until its log says otherwise: the cluster's current
 * configuration for a node that joined (--join), else --cluster's members, all voters.
 */
export type NodeConfig = Omit<Config, 'clusterId'> & Readonly<{ clusterId: string; bootstrap?: ChosenConfig }>

export const developmentSecret = 'paxos-kv-development-secret'

const integer = (flag: string, min: number, max: number) =>
  z.string().regex(/^\d+$/, `${flag} must be an integer`).transform(Number).pipe(z.number().int().min(min, `${flag} must be at least ${min}`).max(max, `${flag} must be at most ${max}`))

const fields = {
  id: integer('--id', 1, limits.nodesMax),
  port: integer('--port', 1, 65_535),
  'etcd-port': integer('--etcd-port', 0, 65_535),
  'request-timeout-ms': integer('--request-timeout-ms', 100, 600_000),
  'tick-ms': integer('--tick-ms', 1, 1000),
  'max-value-bytes': integer('--max-value-bytes', 1, limits.valueBytesMax),
  'snapshot-every-slots': integer('--snapshot-every-slots', 1, 100_000_000),
  'snapshot-every-writes': integer('--snapshot-every-writes', 1, 1_000_000_000),
  'snapshot-every-bytes': integer('--snapshot-every-bytes', 1024 * 1024, Number.MAX_SAFE_INTEGER),
  'snapshot-chunk-bytes': integer('--snapshot-chunk-bytes', 4096, limits.snapshotChunkBytesMax),
  'log-retain-slots': integer('--log-retain-slots', 0, 100_000_000),
  'quota-bytes': integer('--quota-bytes', 1024 * 1024, Number.MAX_SAFE_INTEGER),
  'history-revisions': integer('--history-revisions', 1, 10_000_000),
} as const

function field<K extends keyof typeof fields>(name: K, raw: string | undefined, fallback?: string): number {
  const value = raw ?? fallback
  if (value === undefined) throw new ConfigError(`--${name}`, 'is required')
  const parsed = fields[name].safeParse(value)
  if (!parsed.success) throw new ConfigError(`--${name}`, parsed.error.issues[0]?.message ?? 'invalid')
  return parsed.data
}

function checkJoinUrl(url: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError('--join', `not a URL: ${JSON.stringify(url)}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError('--join', 'only http(s) URLs')
}

/** This node's own URL, as the others reach it, must name the port it listens on. */
export function checkSelfUrl(flag: string, id: NodeId, url: string, port: number): void {
  if (urlPort(url) !== port) throw new ConfigError(flag, `this node (${id}) is listed at ${url}, but --port is ${port}`)
}

export function parseServeArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Config {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        id: { type: 'string' }, port: { type: 'string' }, data: { type: 'string' }, cluster: { type: 'string' },
        host: { type: 'string' }, secret: { type: 'string' }, fsync: { type: 'string' }, 'cluster-id': { type: 'string' },
        'request-timeout-ms': { type: 'string' }, 'tick-ms': { type: 'string' }, 'max-value-bytes': { type: 'string' },
        'snapshot-every-slots': { type: 'string' }, 'snapshot-every-writes': { type: 'string' }, 'snapshot-every-bytes': { type: 'string' }, 'snapshot-chunk-bytes': { type: 'string' }, 'log-retain-slots': { type: 'string' }, 'quota-bytes': { type: 'string' }, 'history-revisions': { type: 'string' }, 'etcd-port': { type: 'string' },
        'debug-step': { type: 'boolean' }, join: { type: 'string' },
      },
    }).values
  } catch (error) {
    const match = /'(--?[\w-]+)/.exec((error as Error).message)
    throw new ConfigError(match?.[1] ?? 'flags', (error as Error).message.split('\n')[0] ?? 'bad flags')
  }
  const text = (name: string): string | undefined => values[name] as string | undefined
  const id = field('id', text('id')) as NodeId
  const port = field('port', text('port'))
  const dataDir = text('data')
  if (dataDir === undefined || dataDir === '') throw new ConfigError('--data', 'is required')
  const clusterSpec = text('cluster')
  const join = text('join') ?? null
  if (join !== null) checkJoinUrl(join)
  if (clusterSpec === undefined && join === null) throw new ConfigError('--cluster', 'is required (or --join URL, for a node added with `paxos-kv member add`)')
  const members = clusterSpec === undefined ? [] : parseClusterSpec(clusterSpec)
  const self = members.find((member) => member.id === id)
  if (clusterSpec !== undefined && self === undefined) throw new ConfigError('--cluster', `does not list this node (--id ${id})`)
  // Peers reach this node at its URL in their own --cluster; one naming another port than the
  // one this node listens on is almost always a typo that leaves the node unreachable.
  if (self !== undefined) checkSelfUrl('--cluster', id, self.url, port)
  const fsync = text('fsync') ?? 'full'
  if (fsync !== 'full' && fsync !== 'off') throw new ConfigError('--fsync', `must be full or off, got ${JSON.stringify(fsync)}`)
  const secret = text('secret') ?? env.PAXOS_KV_SECRET
  // Name where the bad secret came from, so an operator fixes the right place.
  const secretSource = text('secret') === undefined ? 'PAXOS_KV_SECRET' : '--secret'
  if (secret !== undefined && secret.length < 8) throw new ConfigError(secretSource, 'must be at least 8 characters')
  const logLevel = z.enum(logLevels).safeParse(env.LOG_LEVEL ?? 'info')
  if (!logLevel.success) throw new ConfigError('LOG_LEVEL', `must be one of ${logLevels.join(', ')}`)
  const host = text('host') ?? '127.0.0.1'
  if (!/^[\w.:-]+$/.test(host)) throw new ConfigError('--host', `not a host name or address: ${JSON.stringify(host)}`)
  const etcdPort = field('etcd-port', text('etcd-port'), '0')
  if (etcdPort === port) throw new ConfigError('--etcd-port', `is --port (${port}); the etcd API needs a port of its own`)
  const clusterId = text('cluster-id') ?? null
  if (clusterId !== null && !/^[\w.-]{1,64}$/.test(clusterId)) throw new ConfigError('--cluster-id', 'must be 1 to 64 letters, digits, ".", "_" or "-"')
  return Object.freeze({
    id,
    host,
    port,
    dataDir,
    members,
    join,
    clusterId,
    secret: secret ?? developmentSecret,
    insecureSecret: secret === undefined,
    fsync,
    requestTimeoutMs: field('request-timeout-ms', text('request-timeout-ms'), '5000'),
    tickMs: field('tick-ms', text('tick-ms'), '10'),
    valueBytesMax: field('max-value-bytes', text('max-value-bytes'), String(limits.valueBytesMax)),
    snapshotEverySlots: field('snapshot-every-slots', text('snapshot-every-slots'), String(limits.snapshotEverySlots)),
    snapshotEveryWrites: field('snapshot-every-writes', text('snapshot-every-writes'), String(limits.snapshotEveryWrites)),
    snapshotEveryBytes: field('snapshot-every-bytes', text('snapshot-every-bytes'), String(limits.snapshotEveryBytes)),
    snapshotChunkBytes: field('snapshot-chunk-bytes', text('snapshot-chunk-bytes'), String(limits.snapshotChunkBytesTarget)),
    logRetainSlots: field('log-retain-slots', text('log-retain-slots'), String(limits.logTailRetainSlots)),
    quotaBytes: field('quota-bytes', text('quota-bytes'), String(limits.quotaBytes)),
    historyRevisions: field('history-revisions', text('history-revisions'), String(limits.historyRevisions)),
    logLevel: logLevel.data,
    debugStep: values['debug-step'] === true,
    etcdPort,
  })
}
