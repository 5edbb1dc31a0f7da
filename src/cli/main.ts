/**
 * Subcommand dispatch and exit codes: 0 ok, 1 a failed request or a crash, 2 bad usage/config.
 * @module
 */
import { runClient } from './client.js'
import { runCluster } from './cluster.js'
import { runServe } from './serve.js'

const usage = `usage:
  paxos-kv serve --id N --port P --data DIR --cluster 1=URL,2=URL,... [--host H] [--secret S] [--fsync full|off]
      [--cluster-id ID] [--request-timeout-ms 5000] [--tick-ms 10] [--max-value-bytes 1048576] [--debug-step]
      (secret also from env PAXOS_KV_SECRET; without one, a development secret and a warning;
       log level from env LOG_LEVEL, default info)
  paxos-kv cluster [--nodes 3] [--port 7001] [--data ./data] [--only ID] [--debug-step]
  paxos-kv put KEY VALUE [--cas V] [--explain] [--url URL]
  paxos-kv get KEY [--stale] [--url URL]
  paxos-kv del KEY [--cas V] [--explain] [--url URL]
  paxos-kv status [--url URL]`

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'serve':
      return runServe(rest)
    case 'cluster':
      return runCluster(rest)
    case 'put':
    case 'get':
    case 'del':
    case 'status':
      return runClient(command, rest)
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${usage}\n`)
      return command === undefined ? 2 : 0
    default:
      process.stderr.write(`paxos-kv: unknown command ${JSON.stringify(command)}\n${usage}\n`)
      return 2
  }
}
