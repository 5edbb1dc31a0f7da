/**
 * Goal: `paxos-kv serve` flags and PAXOS_KV_SECRET become one Config with the documented
 * defaults, and every bad flag is refused with a one-line ConfigError naming that flag (the CLI
 * turns it into exit code 2 before anything is written).
 * Method: tables of argv through parseServeArgs with a fake environment.
 */
import { describe, expect, it } from 'vitest'
import { ConfigError, parseClusterSpec } from '../../src/config/cluster-spec.js'
import { developmentSecret, parseServeArgs } from '../../src/config/config.js'
import { limits } from '../../src/core/limits.js'

const spec = '1=http://127.0.0.1:7001,2=http://127.0.0.1:7002,3=http://127.0.0.1:7003'
const required = ['--id', '2', '--port', '7002', '--data', '/tmp/never/2', '--cluster', spec]

function refusal(argv: readonly string[], env: Record<string, string> = {}): ConfigError {
  try {
    parseServeArgs(argv, env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error(`accepted ${argv.join(' ')}`)
}

describe('parseServeArgs: good input', () => {
  it('fills in the documented defaults', () => {
    const config = parseServeArgs(required, { PAXOS_KV_SECRET: 'from-the-environment' })
    expect(config).toEqual({
      id: 2,
      host: '127.0.0.1',
      port: 7002,
      dataDir: '/tmp/never/2',
      members: parseClusterSpec(spec),
      join: null,
      clusterId: null,
      secret: 'from-the-environment',
      insecureSecret: false,
      fsync: 'full',
      requestTimeoutMs: 5000,
      tickMs: 10,
      valueBytesMax: limits.valueBytesMax,
      snapshotEverySlots: limits.snapshotEverySlots,
      snapshotEveryWrites: limits.snapshotEveryWrites,
      snapshotEveryBytes: limits.snapshotEveryBytes,
      snapshotChunkBytes: limits.snapshotChunkBytesTarget,
      logRetainSlots: limits.logTailRetainSlots,
      quotaBytes: 2 * 1024 ** 3,
      historyRevisions: limits.historyRevisions,
      logLevel: 'info',
      debugStep: false,
      etcdPort: 0,
    })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('takes every optional flag, and --secret over the environment', () => {
    const config = parseServeArgs([...required, '--host', '0.0.0.0', '--secret', 'from-the-flag', '--fsync', 'off',
      '--request-timeout-ms', '1500', '--tick-ms', '5', '--cluster-id', 'prod.kv_1', '--max-value-bytes', '4096',
      '--snapshot-every-slots', '50', '--snapshot-every-writes', '60', '--snapshot-every-bytes', '2097152', '--snapshot-chunk-bytes', '65536', '--log-retain-slots', '0', '--quota-bytes', '10485760', '--history-revisions', '77', '--debug-step', '--etcd-port', '2379'], { PAXOS_KV_SECRET: 'from-the-environment' })
    expect(config).toMatchObject({ host: '0.0.0.0', secret: 'from-the-flag', fsync: 'off', requestTimeoutMs: 1500, tickMs: 5, clusterId: 'prod.kv_1', valueBytesMax: 4096, snapshotEverySlots: 50, snapshotEveryWrites: 60, snapshotEveryBytes: 2_097_152, snapshotChunkBytes: 65_536, logRetainSlots: 0, quotaBytes: 10_485_760, historyRevisions: 77, debugStep: true, etcdPort: 2379 })
  })

  it('without any secret uses the development secret and says so', () => {
    const config = parseServeArgs(required, {})
    expect(config.secret).toBe(developmentSecret)
    expect(config.insecureSecret).toBe(true)
  })

  it('without --cluster-id the cluster id is left to the data directory, never derived from the members', () => {
    expect(parseServeArgs(required, {}).clusterId).toBeNull()
  })
})

describe('parseServeArgs: every bad flag is named', () => {
  const without = (flag: string) => {
    const index = required.indexOf(flag)
    return [...required.slice(0, index), ...required.slice(index + 2)]
  }
  const bad: Array<[string, string[], string, RegExp]> = [
    ['missing --id', without('--id'), '--id', /required/],
    ['missing --port', without('--port'), '--port', /required/],
    ['missing --data', without('--data'), '--data', /required/],
    ['missing --cluster', without('--cluster'), '--cluster', /required/],
    ['--id not a number', [...required, '--id', 'two'], '--id', /integer/],
    ['--id 0', [...required, '--id', '0'], '--id', /at least 1/],
    ['--id 8', [...required, '--id', '8'], '--id', /at most 7/],
    ['--id not in --cluster', [...required, '--id', '4'], '--cluster', /does not list this node/],
    ['--port other than this node\'s URL in --cluster', [...required, '--port', '7005'], '--cluster', /listed at http:\/\/127\.0\.0\.1:7002, but --port is 7005/],
    ['--port 0', [...required, '--port', '0'], '--port', /at least 1/],
    ['--port 65536', [...required, '--port', '65536'], '--port', /at most 65535/],
    ['--port=-1', [...required, '--port=-1'], '--port', /integer/],
    ['--port -1 (read as a missing value)', [...required, '--port', '-1'], '--port', /ambiguous/],
    ['--data empty', [...required, '--data', ''], '--data', /required/],
    ['--cluster malformed', [...required, '--cluster', '1=http://a:1,2'], '--cluster', /ID=URL/],
    ['--fsync unknown', [...required, '--fsync', 'sometimes'], '--fsync', /full or off/],
    ['--secret too short', [...required, '--secret', 'short'], '--secret', /at least 8/],
    ['--host with a space', [...required, '--host', 'local host'], '--host', /not a host/],
    ['--cluster-id with a slash', [...required, '--cluster-id', 'a/b'], '--cluster-id', /letters, digits/],
    ['--request-timeout-ms too small', [...required, '--request-timeout-ms', '10'], '--request-timeout-ms', /at least 100/],
    ['--request-timeout-ms fractional', [...required, '--request-timeout-ms', '1.5'], '--request-timeout-ms', /integer/],
    ['--tick-ms 0', [...required, '--tick-ms', '0'], '--tick-ms', /at least 1/],
    ['--max-value-bytes above the limit', [...required, '--max-value-bytes', String(limits.valueBytesMax + 1)], '--max-value-bytes', /at most/],
    ['--snapshot-every-slots 0', [...required, '--snapshot-every-slots', '0'], '--snapshot-every-slots', /at least 1/],
    ['--snapshot-every-writes 0', [...required, '--snapshot-every-writes', '0'], '--snapshot-every-writes', /at least 1/],
    ['--snapshot-every-bytes below 1 MiB', [...required, '--snapshot-every-bytes', '4096'], '--snapshot-every-bytes', /at least 1048576/],
    ['--snapshot-chunk-bytes below 4 KiB', [...required, '--snapshot-chunk-bytes', '100'], '--snapshot-chunk-bytes', /at least 4096/],
    ['--snapshot-chunk-bytes above the chunk limit', [...required, '--snapshot-chunk-bytes', String(limits.snapshotChunkBytesMax + 1)], '--snapshot-chunk-bytes', /at most/],
    ['--log-retain-slots not a number', [...required, '--log-retain-slots', 'many'], '--log-retain-slots', /integer/],
    ['--quota-bytes below 1 MiB', [...required, '--quota-bytes', '1000'], '--quota-bytes', /at least 1048576/],
    ['--history-revisions of 0', [...required, '--history-revisions', '0'], '--history-revisions', /at least 1/],
    ['--etcd-port 65536', [...required, '--etcd-port', '65536'], '--etcd-port', /at most 65535/],
    ['--etcd-port not a number', [...required, '--etcd-port', 'x'], '--etcd-port', /integer/],
    ['--etcd-port the same as --port', [...required, '--etcd-port', '7002'], '--etcd-port', /port of its own/],
    ['an unknown flag', [...required, '--bogus', 'x'], '--bogus', /Unknown option/],
    ['a flag without its value', [...required, '--port'], '--port', /argument missing/],
  ]
  it.each(bad)('%s', (_label, argv, flag, reason) => {
    const error = refusal(argv, { PAXOS_KV_SECRET: 'a-good-secret' })
    expect(error.flag).toBe(flag)
    expect(error.message.startsWith(`${flag}: `)).toBe(true)
    expect(error.message).toMatch(reason)
    expect(error.message).not.toContain('\n')
  })

  it('LOG_LEVEL is read from the environment and checked', () => {
    expect(parseServeArgs(required, { LOG_LEVEL: 'warn' }).logLevel).toBe('warn')
    const error = refusal(required, { LOG_LEVEL: 'verbose' })
    expect(error.flag).toBe('LOG_LEVEL')
    expect(error.message).toMatch(/^LOG_LEVEL: must be one of fatal, error/)
  })

  it('a short secret from the environment names the environment variable', () => {
    const error = refusal(required, { PAXOS_KV_SECRET: 'short' })
    expect(error.flag).toBe('PAXOS_KV_SECRET')
  })

  it('a positional argument is refused with one line', () => {
    const error = refusal([...required, 'extra'])
    expect(error.message).toMatch(/extra/)
    expect(error.message).not.toContain('\n')
  })
})
