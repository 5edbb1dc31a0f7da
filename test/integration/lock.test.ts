/**
 * Goal: `paxos-kv lock` excludes a second holder while the first runs its command, and hands the
 * lock over when the first is killed (kill -9: its lease expires); a holder whose command exits
 * releases at once, and the lock's exit code is the command's.
 * Method: a real 3-node cluster; two lock processes, each running a small node script that
 * writes a marker file; the first killed with its process group.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cliPath, clusterPerTest, get, waitFor } from './harness.js'

const startCluster = clusterPerTest()
const markers = mkdtempSync(join(tmpdir(), 'paxos-kv-lock-'))
afterAll(() => rmSync(markers, { recursive: true, force: true }))

/** A lock process in its own group (so a kill takes its command too) running `script` under the lock. */
function lock(url: string, script: string): ChildProcess {
  return spawn(process.execPath, [cliPath, 'lock', 'jobs/nightly', '--ttl', '2', '--url', url, '--', process.execPath, '-e', script], { stdio: 'ignore', detached: true })
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))

describe('paxos-kv lock on a real cluster', () => {
  it('excludes a second holder, and hands over when the first is killed', async () => {
    const cluster = await startCluster()
    await cluster.leader()
    const first = join(markers, 'first')
    const second = join(markers, 'second')
    const holder = lock(cluster.url(1), `require('fs').writeFileSync(${JSON.stringify(first)}, 'x'); setTimeout(() => {}, 120000)`)
    try {
      await waitFor('the first holder to run its command', async () => (existsSync(first) ? true : null))
      const waiter = lock(`${cluster.url(2)},${cluster.url(3)}`, `require('fs').writeFileSync(${JSON.stringify(second)}, 'x'); process.exit(7)`)
      const waiterExit = exited(waiter)
      // While the first holds, the second waits: its command has not run, the lock key is the first's.
      await waitFor('the second to be waiting on a lease of its own', async () => {
        const leases = await (await fetch(`${cluster.url(1)}/v1/leases`)).json() as { leases: unknown[] }
        return leases.leases.length === 2 ? true : null
      })
      await new Promise((resolve) => setTimeout(resolve, 1000))
      expect(existsSync(second)).toBe(false)
      expect(await (await get(cluster.url(1), 'jobs/nightly')).text()).toMatch(new RegExp(`^${holder.pid}@`))
      process.kill(-holder.pid!, 'SIGKILL')
      await waitFor('the second to take the lock once the first one\'s lease expired', async () => (existsSync(second) ? true : null), 30_000)
      expect(await waiterExit).toBe(7)
      // Its command exited: it released the lock at once (revoked its lease, deleting the key).
      expect((await get(cluster.url(1), 'jobs/nightly')).status).toBe(404)
    } finally {
      try {
        process.kill(-holder.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  })
})
