/**
 * Subcommand dispatch and exit codes: 0 ok, 1 a failed request or a crash, 2 bad usage/config.
 * @module
 */
import { readFileSync } from 'node:fs'
import { runClient } from './client.js'
import { runCluster } from './cluster.js'
import { runServe } from './serve.js'
import { runWatch } from './watch.js'
import { runLock } from './lock.js'

/** From package.json, two levels up from both src/cli and dist/cli. */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return manifest.version
}

const usage = `usage:
  paxos-kv serve --id N --port P --data DIR --cluster 1=URL,2=URL,... [--host H] [--secret S] [--fsync full|off]
  paxos-kv serve --id N --port P --data DIR --join URL [...]   (a member added with member add)
      [--cluster-id ID] [--request-timeout-ms 5000] [--tick-ms 10] [--max-value-bytes 1048576] [--debug-step]
      (secret also from env PAXOS_KV_SECRET; without one, a development secret and a warning;
       log level from env LOG_LEVEL, default info)
  paxos-kv cluster [--nodes 3] [--port 7001] [--data ./data] [--only ID] [--debug-step]
  paxos-kv put KEY VALUE|- [--cas V] [--explain] [--url URL[,URL...]]   (- : the value from stdin)
  paxos-kv put KEY --file F [--cas V] [--explain] [--url ...]
  paxos-kv get KEY [--stale] [--url ...]
  paxos-kv get --prefix P [--stale] [--url ...]      (every key with P, one JSON item per line)
  paxos-kv del KEY [--cas V] [--explain] [--url ...]
  paxos-kv del --prefix P [--url ...]
  paxos-kv txn [--file F] [--url ...]                (the txn JSON from F or stdin)
  paxos-kv put KEY VALUE --lease ID                   (the key is deleted when lease ID ends)
  paxos-kv lease grant TTL | keepalive ID | revoke ID | show ID
  paxos-kv lock NAME [--ttl 10] [--url ...] -- COMMAND...   (runs COMMAND while holding the lock NAME)
  paxos-kv watch KEY [--prefix] [--from-revision R] [--url ...]   (one JSON line per change, until Ctrl-C)
  paxos-kv status [--url ...]
  paxos-kv member list | add ID URL [--voter] | promote ID | remove ID [--url ...]
      (add: a learner unless --voter; then start it with serve --id ID --port P --data EMPTY_DIR --join URL)
  paxos-kv --version
  --url lists one or more nodes; when one is down the next is tried`

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
    case 'txn':
    case 'lease':
    case 'member':
      return runClient(command, rest)
    case 'watch':
      return runWatch(rest)
    case 'lock':
      return runLock(rest)
    case '--version':
    case 'version':
      process.stdout.write(`paxos-kv ${packageVersion()}\n`)
      return 0
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
