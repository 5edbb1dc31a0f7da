/**
 * Writers whose last acknowledged value per key is known, and the checks that every node serves
 * it: each writer owns its keys and writes them in order, so a key's last acknowledged value is
 * the one to expect (or a later attempt that failed or timed out: it may or may not have applied).
 * Shared by the snapshot-install tests.
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { get, put, type TestCluster } from './harness.js'

export type SnapshotStatus = { newestIndex: number | null; logCompactedThrough: number; sent: number; installed: number }
export type FullStatus = { appliedIndex: number; commitIndex: number; snapshot: SnapshotStatus }

/** key → the values it may hold: the last acknowledged one, and any tried after it. */
export type Expected = Map<string, { acknowledged: string | null; later: string[] }>

/** How many writers, each overwriting its own keys in turn; and how long one write may take. */
export type WriterShape = Readonly<{ writers: number; keysPerWriter: number; timeoutMs: number }>

/** What the writers saw: writes answered 200, and a line for each one that was not. */
export type WriteTally = { acknowledged: number; failures: string[] }

/** Bytes in a directory tree (the node's data dir: database, WAL, snapshots). */
export function treeBytes(dir: string): number {
  let total = 0
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const stat = statSync(join(dir, name), { throwIfNoEntry: false })
    if (stat?.isFile() === true) total += stat.size
  }
  return total
}

/** Writes to node `target` until `count` writes were started or `stop()` says so. */
export async function writeAll(cluster: TestCluster, target: number, count: number, expected: Expected, shape: WriterShape, stop: () => boolean = () => false): Promise<WriteTally> {
  let next = 0
  const tally: WriteTally = { acknowledged: 0, failures: [] }
  await Promise.all(Array.from({ length: shape.writers }, async (_, writer) => {
    for (let index = 0; ; index += 1) {
      if (next >= count || stop()) return
      next += 1
      const key = `w${writer}-k${index % shape.keysPerWriter}`
      const value = `w${writer}-${index}`
      const entry = expected.get(key) ?? { acknowledged: null, later: [] }
      expected.set(key, entry)
      try {
        const response = await put(cluster.url(target), key, value, {}, shape.timeoutMs)
        const body = await response.text()
        if (response.status === 200) {
          entry.acknowledged = value
          entry.later = []
          tally.acknowledged += 1
          continue
        }
        tally.failures.push(`PUT ${key}: ${response.status} ${body}`)
        if (response.status >= 500) entry.later.push(value) // 503 not_leader/overloaded: nothing applied, but a timeout may have
      } catch (error) {
        tally.failures.push(`PUT ${key}: ${(error as Error).message}`)
        entry.later.push(value)
      }
    }
  }))
  return tally
}

export async function fullStatus(cluster: TestCluster, id: number): Promise<FullStatus | null> {
  return (await cluster.status(id)) as unknown as FullStatus | null
}

/** Every key on node `id` holds its last acknowledged value or a later attempt. */
export async function expectValues(cluster: TestCluster, id: number, expected: Expected, consistency: 'stale' | 'linearizable'): Promise<void> {
  const wrong: string[] = []
  for (const [key, { acknowledged, later }] of expected) {
    const response = await get(cluster.url(id), key, consistency === 'stale' ? '?consistency=stale' : '')
    const value = response.status === 200 ? await response.text() : null
    if (response.status !== 200) await response.arrayBuffer()
    const allowed = [acknowledged, ...later]
    if (!allowed.includes(value) && !(acknowledged === null && value === null)) wrong.push(`${key}: ${value} (expected ${allowed.join(' or ')})`)
  }
  expect(wrong, `node ${id}`).toEqual([])
}
