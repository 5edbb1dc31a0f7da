/**
 * Goal: transactions, prefix deletes and key metadata through real processes: a txn with writes
 * and one without through a follower; a create-if-absent race between two clients on two nodes
 * that exactly one wins, round after round; a prefix delete through a follower; the metadata
 * (createRevision, writes, the revision read) equal on every node and kept across kill -9 of
 * every node and a restart from snapshots and the log.
 * Method: a real 3-node cluster on 127.0.0.1; requests retried with an Idempotency-Key until
 * they are answered, as a careful client does.
 */
import { describe, expect, it } from 'vitest'
import { clusterPerTest, get, putEventually, waitFor } from './harness.js'

const startCluster = clusterPerTest()
const b64 = (text: string) => Buffer.from(text).toString('base64')

type TxnAnswer = { succeeded: boolean; version: number; results: unknown[]; replayed?: boolean }

/** POSTs `txn` until a node answers 200 (same Idempotency-Key every time, so it applies once). */
function txnEventually(url: string, txn: unknown, idempotencyKey: string): Promise<TxnAnswer> {
  return waitFor(`txn ${idempotencyKey}`, async () => {
    const response = await fetch(`${url}/v1/txn`, { method: 'POST', body: JSON.stringify(txn), headers: { 'idempotency-key': idempotencyKey }, signal: AbortSignal.timeout(5000) })
    return response.status === 200 ? (await response.json()) as TxnAnswer : (await response.arrayBuffer(), null)
  })
}

function metadata(response: Response): Record<string, string | null> {
  return Object.fromEntries(['x-version', 'x-create-revision', 'x-writes', 'x-revision'].map((name) => [name, response.headers.get(name)]))
}

describe('transactions on a real cluster', () => {
  it('through a follower: a txn with writes, a read-only txn, a create-if-absent race exactly one client wins, and a prefix delete', async () => {
    const cluster = await startCluster()
    const leader = await cluster.leader()
    const [first, second] = cluster.ids.filter((id) => id !== leader) as [number, number]
    const written = await txnEventually(cluster.url(first), { success: [{ put: { key: 'cfg/a', value: b64('1') } }, { put: { key: 'cfg/b', value: b64('2') } }] }, 'setup')
    expect(written).toEqual({ succeeded: true, version: 1, results: [{ version: 1 }, { version: 1 }] })
    const read = await txnEventually(cluster.url(second), { compare: [{ key: 'cfg/a', target: 'version', op: '=', value: 1 }], success: [{ list: { prefix: 'cfg/' } }] }, 'read')
    expect(read).toMatchObject({ succeeded: true, version: 1, results: [{ items: [{ key: 'cfg/a', value: b64('1') }, { key: 'cfg/b', value: b64('2') }], more: false }] })

    for (let round = 0; round < 5; round += 1) {
      const lock = `lock/${round}`
      const attempt = (client: string) => ({
        compare: [{ key: lock, target: 'createRevision', op: '=', value: 0 }],
        success: [{ put: { key: lock, value: b64(client) } }],
        failure: [{ get: { key: lock } }],
      })
      const answers = await Promise.all([
        txnEventually(cluster.url(first), attempt('one'), `${lock}-one`),
        txnEventually(cluster.url(second), attempt('two'), `${lock}-two`),
      ])
      expect(answers.filter((answer) => answer.succeeded), `round ${round}`).toHaveLength(1)
      const winner = answers[0]!.succeeded ? 'one' : 'two'
      const holder = await get(cluster.url(leader), lock)
      expect(await holder.text()).toBe(winner)
      expect(holder.headers.get('x-writes')).toBe('1')
    }

    const deleted = await waitFor('DELETE ?prefix', async () => {
      const response = await fetch(`${cluster.url(first)}/v1/kv?prefix=lock/`, { method: 'DELETE', headers: { 'idempotency-key': 'drop-locks' } })
      return response.status === 200 ? (await response.json()) as { version: number; deleted: number } : null
    })
    expect(deleted.deleted).toBe(5)
    const listed = await (await fetch(`${cluster.url(second)}/v1/kv?prefix=lock/`)).json()
    expect(listed).toEqual({ items: [], more: false, revision: deleted.version })
  })

  it('key metadata is the same on every node and survives kill -9 of every node and a restart from snapshots', async () => {
    const cluster = await startCluster(3, ['--snapshot-every-slots', '3'])
    await cluster.leader()
    for (const [index, value] of ['a', 'b', 'c', 'd'].entries()) {
      await putEventually(cluster.url(cluster.ids[index % 3]!), 'meta', value)
      await putEventually(cluster.url(cluster.ids[(index + 1) % 3]!), `other/${index}`, value)
    }
    await txnEventually(cluster.url(2), { success: [{ put: { key: 'meta', value: b64('e') } }, { delete: { key: 'other/0' } }] }, 'last')
    const expected = { 'x-version': '9', 'x-create-revision': '1', 'x-writes': '5', 'x-revision': '9' }
    for (const id of cluster.ids) expect(metadata(await get(cluster.url(id), 'meta'))).toEqual(expected)
    for (const id of cluster.ids) await cluster.kill(id)
    for (const id of cluster.ids) cluster.startNode(id)
    await cluster.leader()
    for (const id of cluster.ids) {
      const read = await waitFor(`GET meta on node ${id}`, async () => {
        const response = await get(cluster.url(id), 'meta')
        return response.status === 200 ? response : null
      })
      expect(metadata(read)).toEqual(expected)
      expect(await read.text()).toBe('e')
    }
  })
})
