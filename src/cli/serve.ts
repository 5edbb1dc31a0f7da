/**
 * paxos-kv serve: one node. Bad flags or a data directory that is not this node's: one line on
 * stderr and exit 2, before anything is written.
 * @module
 */
import { clusterSizeWarning, ConfigError } from '../config/cluster-spec.js'
import { checkSelfUrl, parseServeArgs, type Config, type NodeConfig } from '../config/config.js'
import type { ChosenConfig } from '../core/configuration.js'
import { composeNode, joinCluster, ListenError, resolveClusterId, type ComposedNode } from '../node/compose.js'
import { createLogger } from '../observability/logger.js'
import { DataDirError } from '../storage/data-dir.js'

export async function runServe(argv: readonly string[]): Promise<number> {
  let config: Config
  try {
    config = parseServeArgs(argv, process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`paxos-kv serve: ${error.message}\n`)
      return 2
    }
    throw error
  }
  // Listen for the stop signal before doing anything, so a SIGTERM during startup also ends in
  // a clean shutdown (and exit code 0) rather than the default kill.
  const stop = new AbortController()
  const stopRequested = new Promise<void>((resolve) => {
    const onSignal = (): void => {
      stop.abort()
      resolve()
    }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  })
  const logger = createLogger({ node: config.id }, config.logLevel)
  // Anything thrown outside a turn or a request (a socket callback, a stray promise) is a bug:
  // log it as one JSON line like every other fatal error, then crash. The disk holds what was
  // acknowledged; a restart resumes from there.
  // Its one line on stderr too: whoever started the node reads stderr first, and the log may be
  // going elsewhere.
  const crash = (error: unknown): never => {
    logger.fatal({ err: error }, 'uncaught error: exiting')
    process.stderr.write(`paxos-kv serve: fatal: ${error instanceof Error ? error.message : String(error)} (the log has the stack)\n`)
    process.exit(1)
  }
  process.on('uncaughtException', crash)
  process.on('unhandledRejection', crash)
  let node: ComposedNode
  let voters = config.members.length
  let clusterIdInUse: string | null = config.clusterId
  try {
    let bootstrap: ChosenConfig | null = null
    let clusterId: string | 'stopped'
    if (config.join !== null) {
      // A node added with `member add`: the cluster says who the members are, and its id.
      const joined = await joinCluster(config, config.join, logger, stop.signal)
      if (joined.type === 'stopped') return 0
      if (joined.type === 'refused') {
        process.stderr.write(`paxos-kv serve: --join: ${joined.reason}\n`)
        return 2
      }
      const self = joined.configuration.members.find((member) => member.id === config.id)!
      checkSelfUrl('--join', config.id, self.url, config.port)
      bootstrap = joined.configuration
      voters = joined.configuration.members.filter((member) => member.role === 'voter').length
      // This node's own --cluster URLs (if any) still say how it reaches those members.
      const known = new Map(config.members.map((member) => [member.id, member.url]))
      config = { ...config, members: joined.configuration.members.map((member) => ({ id: member.id, url: known.get(member.id) ?? member.url })) }
      clusterId = config.clusterId ?? joined.clusterId
      logger.info({ join: config.join, members: joined.configuration.members, configSlot: joined.configuration.slot }, `joining cluster ${clusterId} as a ${self.role}`)
    } else {
      clusterId = await resolveClusterId(config, logger, stop.signal)
    }
    if (clusterId === 'stopped') return 0
    clusterIdInUse = clusterId
    const nodeConfig: NodeConfig = bootstrap === null ? { ...config, clusterId } : { ...config, clusterId, bootstrap }
    node = composeNode(nodeConfig, logger)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`paxos-kv serve: ${error.message}\n`)
      return 2
    }
    if (error instanceof DataDirError) {
      process.stderr.write(`paxos-kv serve: --data: ${error.message}\n`)
      return 2
    }
    if (error instanceof ListenError) {
      process.stderr.write(`paxos-kv serve: ${error.flag}: ${error.message}\n`)
      return 2
    }
    throw error
  }
  if (config.insecureSecret) logger.warn('no --secret or PAXOS_KV_SECRET: using the built-in development secret; do not expose this node')
  const sizeWarning = clusterSizeWarning(voters)
  if (sizeWarning !== null) logger.warn({ voters }, sizeWarning)
  if (config.fsync === 'off') logger.warn('--fsync off: acknowledged writes can be LOST on power failure or OS crash (experiments only)')
  let port: number
  try {
    port = await node.start()
  } catch (error) {
    if (!(error instanceof ListenError)) throw error
    process.stderr.write(`paxos-kv serve: ${error.flag}: ${error.message}\n`)
    await node.stop().catch(() => {})
    return 2
  }
  logger.info({ port, members: config.members, clusterId: clusterIdInUse, fsync: config.fsync, etcdPort: config.etcdPort }, `node ${config.id} serving on http://${config.host}:${port}${config.etcdPort === 0 ? '' : `, etcd API on ${config.host}:${config.etcdPort}`}`)
  await stopRequested
  logger.info('shutting down')
  await node.stop()
  return 0
}
