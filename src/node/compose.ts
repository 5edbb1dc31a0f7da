/**
 * The composition root (hashicorp/raft's NewRaft): the one place that builds the concrete parts
 * of a node (storage on its data dir, the KV state machine, the peer links, the HTTP and etcd
 * servers) and hands each only the ports it needs. The CLI calls it; nothing else constructs a
 * storage or a state machine.
 * @module
 */
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { AssertionError } from '../core/assert.js'
import { limits } from '../core/limits.js'
import { governsFrom } from '../core/configuration.js'
import type { Config, NodeConfig } from '../config/config.js'
import type { WriteCommand } from '../kv/command.js'
import { writeCommandSchema } from '../kv/command-codec.js'
import { KvStateMachine } from '../kv/kv-state-machine.js'
import type { Logger } from '../observability/logger.js'
import { RateLimit } from '../observability/rate-limit.js'
import { createApp } from '../server/app.js'
import type { EtcdServer } from '../server/etcd/etcd-server.js'
import { DataDirError, openNodeStorage, storedClusterId, type NodeStorage } from '../storage/data-dir.js'
import { PeerCodec } from '../transport/codec.js'
import { HoldingTransport } from '../transport/holding-transport.js'
import { StreamTransport } from '../transport/stream-transport.js'
import { SystemClock } from './clock.js'
import { awaitFreshStart } from './fresh-start.js'
import { ListenError } from './listen-error.js'
import { PaxosNode } from './node.js'
import { refusedByPeer, refusedFromPeer } from './refusal-messages.js'

export { ListenError }
export { joinCluster, type JoinOutcome } from './join.js'

/** A node built and wired, not yet serving: `start` opens its ports, `stop` closes everything. */
export type ComposedNode = Readonly<{
  node: PaxosNode
  /** Starts the protocol, then listens for clients and peers; resolves with the bound HTTP port. */
  start: () => Promise<number>
  stop: () => Promise<void>
}>

/** The etcd endpoint as the other members reach this node: its own --cluster URL's host. */
function etcdUrlOf(config: NodeConfig): string {
  const self = config.members.find((member) => member.id === config.id)
  const host = self === undefined ? config.host : new URL(self.url).hostname
  return `http://${host}:${config.etcdPort}`
}

/**
 * Opens the data dir (DataDirError when it is not this node's; nothing is written then) and
 * builds the node over it. Throws what opening or restoring throws, with the storage closed.
 */
export function composeNode(config: NodeConfig, logger: Logger): ComposedNode {
  const fatal = (error: unknown): never => {
    logger.fatal({ err: error, assertion: error instanceof AssertionError }, 'fatal error: exiting')
    process.exit(1)
  }
  const clock = new SystemClock(config.tickMs)
  // The storage reports its WAL syncs to the node that runs on it, which is built after it.
  let synced = (_durationMs: number): void => {}
  const storage: NodeStorage<WriteCommand> = openNodeStorage<WriteCommand>(
    // A node that joins votes only in the slots its configuration governs (migrations/0009).
    { dir: config.dataDir, clusterId: config.clusterId, nodeId: config.id, fsync: config.fsync, votesFrom: config.bootstrap === undefined || config.bootstrap.slot === 0 ? 0 : governsFrom(config.bootstrap.slot) },
    { onError: fatal, onSynced: (durationMs) => synced(durationMs), nowMs: () => clock.nowMs() },
  )
  // Peer refusals are retried many times a minute: say each once per half minute.
  const refusals = new RateLimit({ intervalMs: 30_000, nowMs: () => clock.nowMs() })
  const links = new StreamTransport({
    self: config.id,
    peers: new Map(config.members.map((member) => [member.id, member.url])),
    secret: config.secret,
    clusterId: config.clusterId,
    incarnation: storage.identity.incarnation,
    now: () => clock.nowMs(),
    onRefused: (peer, status, reason) => {
      if (!refusals.allow(`to ${peer} ${status} ${reason}`)) return
      logger.warn({ peer, status, reason }, refusedByPeer(peer, status, reason))
    },
    onOversized: (report) => logger.warn({
      peer: report.peer, messageType: report.message.type, messageBytes: report.message.bytes, frameBytesMax: report.frameBytesMax, unreportedSincePrevious: report.unreported,
    }, 'peer message too large for a frame: not sent'),
  })
  const etcdUrl = config.etcdPort === 0 ? null : etcdUrlOf(config)
  let node: PaxosNode
  try {
    node = new PaxosNode(config, logger, {
      clock,
      stateMachine: new KvStateMachine({ history: { revisionsMax: config.historyRevisions, bytesMax: limits.historyBytesMax }, snapshotChunkBytesTarget: config.snapshotChunkBytes }),
      storage,
      links,
      step: config.debugStep ? new HoldingTransport<WriteCommand>(links, limits.heldMessagesMax) : null,
      etcdUrl,
      fatal,
    })
  } catch (error) {
    storage.close()
    void links.close()
    throw error
  }
  synced = (durationMs) => node.walSynced(durationMs)

  let server: ServerType | null = null
  let etcd: EtcdServer | null = null
  const listen = (): Promise<number> => {
    const app = createApp({
      node,
      secret: config.secret,
      clusterId: config.clusterId,
      // The node's own set: it follows the configurations as they are chosen.
      members: node.memberIds(),
      requestTimeoutMs: config.requestTimeoutMs,
      valueBytesMax: config.valueBytesMax,
      peerCodec: new PeerCodec(writeCommandSchema),
      onFatal: fatal,
      onRequest: (route, method, status, durationMs) => node.observeRequest(route, method, status, durationMs),
      onUnexpected: (error) => logger.error({ err: error }, 'unexpected error in a request'),
      onPeerRefused: (from, reason) => {
        // Per sending host and claim, not per connection: each retry comes from a new port.
        if (!refusals.allow(`from ${from.host} ${from.claimedNode ?? ''} ${reason}`)) return
        logger.warn({ from: from.address, claimedNode: from.claimedNode, reason }, refusedFromPeer(from, reason))
      },
    })
    return new Promise<number>((resolve, reject) => {
      const listening = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info: AddressInfo) => resolve(info.port))
      // Peer streams are long-lived requests: no whole-request deadline (Node's default is 5 min).
      ;(listening as { requestTimeout: number }).requestTimeout = 0
      listening.once('error', (error) => reject(new ListenError('--port', config.host, config.port, error)))
      server = listening
    })
  }

  /** The etcd v3 gRPC API (serve --etcd-port) over this node. */
  const startEtcd = async (url: string): Promise<void> => {
    // Loaded only here: gRPC costs a node that does not serve it nothing at startup.
    const [{ servedCalls, servedStreams }, { EtcdServer }, { MemberEndpoints }] = await Promise.all([
      import('../server/etcd/calls.js'), import('../server/etcd/etcd-server.js'), import('../server/etcd/member-endpoints.js'),
    ])
    const deps = { node, secret: config.secret, clusterId: config.clusterId, requestTimeoutMs: config.requestTimeoutMs, valueBytesMax: config.valueBytesMax }
    const calls = servedCalls({ ...deps, members: () => node.memberList(), selfEtcdUrl: url, endpoints: new MemberEndpoints() })
    etcd = new EtcdServer({ node, calls, streams: servedStreams(deps), onFatal: fatal, onUnexpected: (error) => logger.error({ err: error }, 'unexpected error in an etcd call') })
    try {
      await etcd.start(config.host, config.etcdPort)
    } catch (error) {
      throw new ListenError('--etcd-port', config.host, config.etcdPort, error as Error)
    }
  }

  return {
    node,
    start: async () => {
      node.start()
      const port = await listen()
      if (etcdUrl !== null) await startEtcd(etcdUrl)
      return port
    },
    stop: async () => {
      await etcd?.stop()
      node.stop()
      await links.close()
      await new Promise<void>((resolve) => {
        const listening = server
        if (listening === null) return resolve()
        listening.close(() => resolve())
        // Peers' streams into this node never end on their own: close() alone would wait forever.
        ;(listening as { closeAllConnections?: () => void }).closeAllConnections?.()
      })
      storage.close()
    },
  }
}

/**
 * The cluster id stored in the data directory (checked against --cluster-id when both are
 * there); for an empty directory, the one its peers agree on, once every member has said it
 * never met this node (node/fresh-start-decision.ts). Throws DataDirError when it may not start.
 */
export async function resolveClusterId(config: Config, logger: Logger, signal: AbortSignal): Promise<string | 'stopped'> {
  const stored = storedClusterId(config.dataDir)
  if (stored !== null) return config.clusterId ?? stored
  const outcome = await awaitFreshStart(config, logger, signal)
  switch (outcome.type) {
    case 'start':
      return outcome.clusterId
    case 'stopped':
      return 'stopped'
    case 'refuse':
      throw new DataDirError('forgotten_member', `${config.dataDir}: ${outcome.reason}`)
  }
}
