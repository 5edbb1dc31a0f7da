/**
 * Goal: the CLI's txn, prefix, stdin, several-node and watch commands against real processes:
 * `txn` from stdin, `put KEY -` from stdin, `get --prefix` paging past one page, `del --prefix`,
 * `--url` moving past a killed node, `watch` printing changes as they apply, `--version`.
 * Method: a real 3-node cluster; the CLI as a child process (dist/cli.js).
 */
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { cliPath, clusterPerTest, putEventually, waitFor } from './harness.js'

const startCluster = clusterPerTest()

function cli(args: string[], input?: string | Buffer): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: 30_000, ...(input === undefined ? {} : { input }) })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

describe('paxos-kv CLI on a real cluster: txn, prefixes, stdin, several nodes, watch', () => {
  it('runs each command end to end', async () => {
    const cluster = await startCluster()
    const leader = await cluster.leader()
    const follower = cluster.ids.find((id) => id !== leader)!
    const url = cluster.url(follower)

    const lock = JSON.stringify({ compare: [{ key: 'lock', target: 'createRevision', op: '=', value: 0 }], success: [{ put: { key: 'lock', value: Buffer.from('me').toString('base64') } }], failure: [{ get: { key: 'lock' } }] })
    const won = await waitFor('a txn through the CLI', async () => {
      const result = cli(['txn', '--url', url], lock)
      return result.code === 0 ? JSON.parse(result.stdout) as { succeeded: boolean } : null
    })
    expect(won.succeeded).toBe(true)
    expect(JSON.parse(cli(['txn', '--url', url], lock).stdout)).toMatchObject({ succeeded: false, results: [{ key: 'lock' }] })

    const binary = Buffer.from([0, 1, 2, 255, 10])
    expect(cli(['put', 'bin', '-', '--url', url], binary).code).toBe(0)
    const read = spawnSync(process.execPath, [cliPath, 'get', 'bin', '--url', url], { timeout: 30_000 })
    expect(Buffer.from(read.stdout).equals(binary)).toBe(true)

    await Promise.all(Array.from({ length: 130 }, (_, index) => putEventually(cluster.url(cluster.ids[index % 3]!), `many/${String(index).padStart(3, '0')}`, 'v')))
    const listed = cli(['get', '--prefix', 'many/', '--url', url])
    expect(listed.code).toBe(0)
    const keys = listed.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { key: string }).key)
    expect(keys).toEqual(Array.from({ length: 130 }, (_, index) => `many/${String(index).padStart(3, '0')}`))

    const watcher = spawn(process.execPath, [cliPath, 'watch', 'watched/', '--prefix', '--url', url], { stdio: ['ignore', 'pipe', 'pipe'] })
    let watched = ''
    watcher.stdout.on('data', (chunk: Buffer) => (watched += chunk.toString()))
    try {
      // Writes go on until the watcher (which starts after a read barrier) has seen two of them.
      for (let index = 0; index < 200 && watched.trim().split('\n').filter(Boolean).length < 2; index += 1) {
        await putEventually(cluster.url(leader), `watched/${index}`, String(index))
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const lines = watched.trim().split('\n').map((line) => JSON.parse(line) as { revision: number; changes: Array<{ key: string }> })
      expect(lines.length).toBeGreaterThanOrEqual(2)
      expect(lines[1]!.revision).toBeGreaterThan(lines[0]!.revision)
      expect(lines.every((line) => line.changes[0]!.key.startsWith('watched/'))).toBe(true)
    } finally {
      watcher.kill('SIGKILL')
    }

    expect(JSON.parse(cli(['del', '--prefix', 'many/', '--url', url]).stdout)).toMatchObject({ deleted: 130 })
    await cluster.kill(follower)
    const other = cluster.ids.find((id) => id !== follower)!
    const failedOver = cli(['get', 'lock', '--url', `${url},${cluster.url(other)}`])
    expect(failedOver).toMatchObject({ code: 0, stdout: 'me' })

    const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
    expect(cli(['--version']).stdout).toBe(`paxos-kv ${version}\n`)
  })
})
