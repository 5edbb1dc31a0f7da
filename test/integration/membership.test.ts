/**
 * Goal: an operator grows, shrinks and repairs a running cluster with the CLI alone, and no
 * acknowledged write is lost and no linearizable read goes back in time meanwhile.
 * Method: a real 3-node cluster under 16 writers of unique keys and one sequential writer of a
 * counter whose reads must never go below the last value acknowledged before they began. Grow
 * to 5 (member add as a learner, serve --join, promote once caught up), remove one, remove the
 * leader, then replace a node whose data directory was deleted (kill -9, remove, delete, add,
 * --join, promote). The logs are compacted every 100 slots, so a node that joins late comes in
 * through a snapshot install. At the end every acknowledged write is read back from the members
 * left.
 */
import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { cliPath, clusterPerTest, get, put, secret, waitFor, type TestCluster } from './harness.js'

const run = promisify(execFile)
const startCluster = clusterPerTest()

type Members = { members: { id: number; url: string; role: 'voter' | 'learner'; caughtUp: boolean }[]; configSlot: number }

async function member(cluster: TestCluster, via: number, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cliPath, 'member', ...args, '--url', cluster.url(via)], { timeout: 30_000 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string }
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' }
  }
}

/** A CLI membership command, tried until it succeeds (503 while a leader changes; 409 while a change settles). */
async function memberEventually(cluster: TestCluster, via: () => number, ...args: string[]): Promise<Members> {
  return waitFor(`member ${args.join(' ')}`, async () => {
    const answer = await member(cluster, via(), ...args)
    return answer.code === 0 ? (JSON.parse(answer.stdout) as Members) : null
  }, 60_000)
}

function startJoining(cluster: TestCluster, id: number, via: number): void {
  const dataDir = join(cluster.dataRoot, String(id))
  cluster.startNode(id, [cliPath, 'serve', '--id', String(id), '--port', String(cluster.ports[id - 1]), '--data', dataDir, '--join', cluster.url(via), '--secret', secret, '--snapshot-every-slots', '100', '--log-retain-slots', '20'])
}

async function snapshotsInstalled(cluster: TestCluster, id: number): Promise<number> {
  const response = await fetch(`${cluster.url(id)}/v1/status`, { signal: AbortSignal.timeout(5000) })
  return ((await response.json()) as { snapshot: { installed: number } }).snapshot.installed
}

describe('membership changes under load', () => {
  it('grows 3 -> 5, removes two (the leader too) and replaces a wiped node, losing nothing acknowledged', async () => {
    // Small snapshot intervals: the log is compacted, so the nodes that join get a snapshot.
    const cluster = await startCluster(3, ['--snapshot-every-slots', '100', '--log-retain-slots', '20'])
    const live = new Set([1, 2, 3])
    const anyLive = (): number => [...live][Math.floor(Math.random() * live.size)]!
    const acknowledged = new Map<string, number>()
    let stop = false
    const writers = Array.from({ length: 16 }, async (_, writer) => {
      for (let index = 0; !stop; index += 1) {
        const key = `m/${writer}/${index}`
        try {
          const response = await put(cluster.url(anyLive()), key, key, {}, 10_000)
          if (response.status === 200) acknowledged.set(key, ((await response.json()) as { version: number }).version)
          else await response.body?.cancel()
        } catch {
          // no answer: indeterminate, and never retried
        }
      }
    })
    let counterAcked = 0
    const readViolations: string[] = []
    const counter = (async () => {
      for (let value = 1; !stop; value += 1) {
        try {
          const response = await put(cluster.url(anyLive()), 'counter', String(value), {}, 10_000)
          if (response.status === 200) counterAcked = value
          await response.body?.cancel()
        } catch {
          // indeterminate
        }
      }
    })()
    const reader = (async () => {
      while (!stop) {
        const floor = counterAcked
        const node = anyLive()
        try {
          const response = await get(cluster.url(node), 'counter')
          if (response.status === 200) {
            const seen = Number(await response.text())
            if (seen < floor) readViolations.push(`node ${node} read ${seen} after ${floor} was acknowledged`)
          } else await response.body?.cancel()
        } catch {
          // a node going away mid-read
        }
      }
    })()

    // Grow: 4 as a learner, then promoted; 5 likewise.
    for (const id of [await cluster.addPort(), await cluster.addPort()]) {
      const added = await memberEventually(cluster, anyLive, 'add', String(id), cluster.url(id))
      expect(added.members.find((entry) => entry.id === id)?.role).toBe('learner')
      startJoining(cluster, id, anyLive())
      const promoted = await memberEventually(cluster, anyLive, 'promote', String(id))
      expect(promoted.members.find((entry) => entry.id === id)?.role).toBe('voter')
      live.add(id)
    }
    const five = await memberEventually(cluster, anyLive, 'list')
    expect(five.members.map((entry) => `${entry.id}:${entry.role}`)).toEqual(['1:voter', '2:voter', '3:voter', '4:voter', '5:voter'])

    // Shrink: one follower, then the leader.
    const leader = await cluster.leader([...live])
    const follower = [...live].find((id) => id !== leader)!
    live.delete(follower)
    await memberEventually(cluster, anyLive, 'remove', String(follower))
    await cluster.kill(follower)
    live.delete(leader)
    const shrunk = await memberEventually(cluster, anyLive, 'remove', String(leader))
    expect(shrunk.members.map((entry) => entry.id)).not.toContain(leader)
    const nextLeader = await cluster.leader([...live])
    expect(nextLeader).not.toBe(leader)
    await cluster.kill(leader)

    // Repair: a member loses its disk; it is removed, wiped, added again and rejoins.
    const wiped = [...live].find((id) => id !== nextLeader)!
    live.delete(wiped)
    await cluster.kill(wiped)
    await memberEventually(cluster, anyLive, 'remove', String(wiped))
    rmSync(join(cluster.dataRoot, String(wiped)), { recursive: true, force: true })
    await memberEventually(cluster, anyLive, 'add', String(wiped), cluster.url(wiped))
    startJoining(cluster, wiped, anyLive())
    await memberEventually(cluster, anyLive, 'promote', String(wiped))
    live.add(wiped)
    // It came in through a snapshot: the slots before the compaction point were gone.
    expect(await snapshotsInstalled(cluster, wiped)).toBeGreaterThan(0)

    stop = true
    await Promise.all([...writers, counter, reader])
    expect(readViolations).toEqual([])
    expect(acknowledged.size).toBeGreaterThan(100)
    const final = await memberEventually(cluster, anyLive, 'list')
    expect(final.members.every((entry) => entry.role === 'voter' && live.has(entry.id))).toBe(true)
    expect(final.members).toHaveLength(3)
    for (const node of live) {
      const missing: string[] = []
      for (const [key, version] of acknowledged) {
        const response = await get(cluster.url(node), key)
        if (response.status !== 200 || response.headers.get('x-version') !== String(version)) missing.push(key)
        await response.body?.cancel()
      }
      expect(missing, `node ${node}`).toEqual([])
    }
  })
})
