/**
 * Goal: one client write applies at most once across a leader change, also when the leader dies
 * with forwarded writes in flight (the forwarder then cannot know whether they were proposed).
 * Method: a real 3-node cluster; sixteen clients send a stream of writes through one follower,
 * each write recognisable: create-only puts and plain puts of unique keys, cas puts and deletes
 * of keys made for them. Once a third is acknowledged, kill -9 the leader (and restart it); at
 * two thirds, kill -9 whichever node leads then (should that be the follower the stream goes
 * through, the stream moves to another first). Then, from the final state and the answers:
 * - a cas or create-only put that answered 409 while its own value is in place applied twice;
 * - a delete of a key that existed that answered `deleted: false` applied twice;
 * - every acknowledged write has its own revision, and the final revision leaves no more
 *   unaccounted revisions than there were writes with no answer (a plain put applied twice
 *   shows here: one revision more than its single answer accounts for);
 * - every acknowledged put's value is there at its acknowledged version.
 * 503 answers are indeterminate and are not retried (a retry would be a second write).
 */
import { describe, expect, it } from 'vitest'
import { clusterPerTest, get, putEventually, waitFor, type TestCluster } from './harness.js'

const startCluster = clusterPerTest()

type Kind = 'create' | 'put' | 'cas' | 'delete'
type Op = { readonly index: number; readonly kind: Kind; readonly key: string; readonly value: string; readonly cas: number | null }
type Answer = Readonly<{ status: number; body: Record<string, unknown> }> | Readonly<{ status: 'no answer' }>

const opsTotal = 360
const clients = 16

async function send(url: string, op: Op): Promise<Answer> {
  const query = op.kind === 'create' ? '?cas=0' : op.cas === null ? '' : `?cas=${op.cas}`
  const init = op.kind === 'delete' ? { method: 'DELETE' } : { method: 'PUT', body: op.value }
  try {
    const response = await fetch(`${url}/v1/kv/${op.key}${query}`, { ...init, signal: AbortSignal.timeout(15_000) })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  } catch {
    return { status: 'no answer' }
  }
}

/** Keys the cas puts and deletes work on, made before the stream (each its own revision). */
async function prepare(cluster: TestCluster, leader: number): Promise<{ ops: Op[]; setupRevision: number }> {
  const ops: Op[] = []
  for (let index = 0; index < opsTotal; index += 1) {
    const kind = (['create', 'put', 'cas', 'delete'] as const)[index % 4]!
    ops.push({ index, kind, key: `eo/${kind}/${index}`, value: `value-${index}`, cas: null })
  }
  let setupRevision = 0
  for (const op of ops) {
    if (op.kind !== 'cas' && op.kind !== 'delete') continue
    const { version } = await putEventually(cluster.url(leader), op.key, `before-${op.index}`)
    setupRevision = Math.max(setupRevision, version)
    if (op.kind === 'cas') (op as { cas: number | null }).cas = version
  }
  return { ops, setupRevision }
}

describe('exactly once across a leader kill', () => {
  it('kill -9 of the leader while a follower forwards a stream of writes: none applies twice', async () => {
    const cluster = await startCluster()
    const leader = await cluster.leader()
    /** Where the clients send: never the node about to be killed. */
    let entry = cluster.ids.find((id) => id !== leader)!
    const { ops, setupRevision } = await prepare(cluster, leader)

    const answers = new Map<number, Answer>()
    let next = 0
    let acknowledged = 0
    const client = async (): Promise<void> => {
      for (let op = ops[next++]; op !== undefined; op = ops[next++]) {
        const answer = await send(cluster.url(entry), op)
        answers.set(op.index, answer)
        if (answer.status === 200) acknowledged += 1
      }
    }
    const stream = Promise.all(Array.from({ length: clients }, () => client()))
    let killedInFlight = 0
    for (const share of [1 / 3, 2 / 3]) {
      await waitFor(`${Math.round(share * 100)}% of the writes acknowledged`, async () => (acknowledged >= opsTotal * share ? true : null), 60_000)
      const current = await cluster.leader()
      if (current === entry) entry = cluster.ids.find((id) => id !== current)!
      if (next < opsTotal) killedInFlight += 1
      await cluster.kill(current)
      cluster.startNode(current)
    }
    await stream
    // The stream must have gone on through a kill, or the test proved nothing about it.
    expect(killedInFlight).toBeGreaterThan(0)
    await cluster.leader()
    const follower = entry
    const violations: string[] = []
    const revisions = new Map<number, number>()
    let unanswered = 0
    for (const op of ops) {
      const answer = answers.get(op.index)!
      if (answer.status === 'no answer' || answer.status === 503) {
        unanswered += 1
        continue
      }
      if (answer.status === 409) {
        const current = await waitFor(`GET ${op.key}`, async () => {
          const response = await get(cluster.url(follower), op.key)
          return response.status === 200 || response.status === 404 ? response : null
        })
        if (current.status === 200 && (await current.text()) === op.value) violations.push(`${op.kind} #${op.index} answered 409 with its own value in place: applied twice`)
        continue
      }
      expect(answer.status, `${op.kind} #${op.index}: ${JSON.stringify(answer)}`).toBe(200)
      const version = answer.body.version as number
      const other = revisions.get(version)
      if (other !== undefined) violations.push(`#${op.index} and #${other} both answered revision ${version}`)
      revisions.set(version, op.index)
      if (op.kind === 'delete' && answer.body.deleted !== true) violations.push(`delete #${op.index} of an existing key answered deleted=${String(answer.body.deleted)}: applied twice`)
    }
    const status = await waitFor('the final revision', async () => {
      const seen = await cluster.status(follower)
      return seen !== null && seen.appliedIndex === seen.commitIndex ? seen : null
    })
    const unaccounted = status.revision - setupRevision - revisions.size
    if (unaccounted > unanswered) violations.push(`revision ${status.revision}: ${unaccounted} revisions no answer accounts for, but only ${unanswered} writes went unanswered`)
    for (const op of ops) {
      const answer = answers.get(op.index)!
      if (answer.status !== 200) continue
      const read = await waitFor(`GET ${op.key}`, async () => {
        const response = await get(cluster.url(follower), op.key)
        return response.status === 200 || response.status === 404 ? response : null
      })
      if (op.kind === 'delete') {
        if (read.status !== 404) violations.push(`delete #${op.index} answered 200 but the key is there`)
        continue
      }
      const seen = { status: read.status, value: await read.text(), version: read.headers.get('x-version') }
      if (seen.status !== 200 || seen.value !== op.value || seen.version !== String(answer.body.version)) {
        violations.push(`${op.kind} #${op.index} answered version ${String(answer.body.version)} but reads ${JSON.stringify(seen)}`)
      }
    }
    expect(violations).toEqual([])
    expect(revisions.size).toBeGreaterThan(opsTotal / 2)
  })
})
