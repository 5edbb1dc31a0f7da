/**
 * paxos-kv serve: one node. Bad flags or a data directory that is not this node's: one line on
 * stderr and exit 2, before anything is written.
 * @module
 */
import { clusterSizeWarning, ConfigError } from '../config/cluster-spec.js'
import { parseServeArgs, type Config } from '../config/config.js'
import { composeNode, ListenError, type ComposedNode } from '../node/compose.js'
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
  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
  const logger = createLogger({ node: config.id }, config.logLevel)
  // Anything thrown outside a turn or a request (a socket callback, a stray promise) is a bug:
  // log it as one JSON line like every other fatal error, then crash. The disk holds what was
  // acknowledged; a restart resumes from there.
  const crash = (error: unknown): never => {
    logger.fatal({ err: error }, 'uncaught error: exiting')
    process.exit(1)
  }
  process.on('uncaughtException', crash)
  process.on('unhandledRejection', crash)
  let node: ComposedNode
  try {
    node = composeNode(config, logger)
  } catch (error) {
    if (error instanceof DataDirError) {
      process.stderr.write(`paxos-kv serve: --data: ${error.message}\n`)
      return 2
    }
    throw error
  }
  if (config.insecureSecret) logger.warn('no --secret or PAXOS_KV_SECRET: using the built-in development secret; do not expose this node')
  const sizeWarning = clusterSizeWarning(config.members.length)
  if (sizeWarning !== null) logger.warn({ members: config.members.length }, sizeWarning)
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
  logger.info({ port, members: config.members, clusterId: config.clusterId, fsync: config.fsync, etcdPort: config.etcdPort }, `node ${config.id} serving on http://${config.host}:${port}${config.etcdPort === 0 ? '' : `, etcd API on ${config.host}:${config.etcdPort}`}`)
  await stopRequested
  logger.info('shutting down')
  await node.stop()
  return 0
}
