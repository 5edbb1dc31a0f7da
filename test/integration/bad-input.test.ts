/**
 * Goal: bad input gets a clear error and changes nothing, through real HTTP and a real process:
 * 413, 400 (cas, key, peer body), 404, 401 for peers without the secret, and a data directory of
 * another node refused at start with exit code 2. Method: a real 3-node cluster.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, put, putEventually, secret, TestCluster } from './harness.js'

let cluster: TestCluster
beforeAll(async () => {
  cluster = await TestCluster.start()
  await putEventually(cluster.url(1), 'existing', 'v')
})
afterAll(async () => cluster.stop())

async function errorOf(response: Response): Promise<string> {
  return ((await response.json()) as { error: string }).error
}

describe('bad input', () => {
  it('an oversized value is 413 and is not written', async () => {
    const response = await put(cluster.url(1), 'big', 'x'.repeat(1024 * 1024 + 1))
    expect(response.status).toBe(413)
    expect(await errorOf(response)).toBe('too_large')
    expect((await get(cluster.url(1), 'big')).status).toBe(404)
  })

  it('an oversized value sent chunked (no length) is 413 and is not written', async () => {
    const chunk = new Uint8Array(64 * 1024).fill(120)
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 1024 * 1024) return controller.close()
        sent += chunk.byteLength
        controller.enqueue(chunk)
      },
    })
    const response = await fetch(`${cluster.url(1)}/v1/kv/chunked`, { method: 'PUT', body, duplex: 'half' } as RequestInit)
    expect(response.status).toBe(413)
    expect(await errorOf(response)).toBe('too_large')
    expect((await get(cluster.url(1), 'chunked')).status).toBe(404)
  })

  it('a bad cas or key is 400; an unknown route is 404', async () => {
    for (const cas of ['-1', '1.5', 'abc']) {
      const response = await fetch(`${cluster.url(1)}/v1/kv/existing?cas=${cas}`, { method: 'PUT', body: 'w' })
      expect(response.status).toBe(400)
      expect(await errorOf(response)).toBe('bad_request')
    }
    expect((await put(cluster.url(1), '', 'v')).status).toBe(400)
    expect((await put(cluster.url(1), 'k'.repeat(1025), 'v')).status).toBe(400)
    expect((await put(cluster.url(1), '%E0%A4%A', 'v')).status).toBe(400)
    const unknown = await fetch(`${cluster.url(1)}/v2/nothing`)
    expect(unknown.status).toBe(404)
    expect(await errorOf(unknown)).toBe('not_found')
    expect(await (await get(cluster.url(1), 'existing')).text()).toBe('v')
  })

  it('a peer request without the secret, with a wrong one, or for another cluster is 401 and changes nothing', async () => {
    const before = await cluster.status(1)
    const batch = JSON.stringify({ from: 2, to: 1, messages: [{ type: 'prepare', ballot: { round: 999, node: 2 }, fromSlot: 1 }] })
    const clusterId = (await cluster.identity(1, 2)).clusterId ?? ""
    const credentials = [{}, { 'x-paxos-secret': 'wrong-secret', 'x-paxos-cluster': clusterId }, { 'x-paxos-secret': secret, 'x-paxos-cluster': 'another-cluster' }]
    for (const path of ['/peer/messages', '/peer/stream']) {
      for (const headers of credentials) {
        const response = await fetch(`${cluster.url(1)}${path}`, { method: 'POST', body: `${batch}\n`, headers: { 'content-type': 'application/json', ...headers } })
        expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401)
        expect(await errorOf(response)).toBe('unauthorized')
      }
    }
    const after = await cluster.status(1)
    expect(after?.ballot).toEqual(before?.ballot)
    expect(after?.ballot.round).not.toBe(999)
  })

  it('a malformed peer body with the right secret is 400 and changes nothing', async () => {
    const before = await cluster.status(1)
    // Node 1 knows node 2's incarnation (node 2 reached it): these requests pass as node 2's.
    const identity = await cluster.identity(1, 2)
    const headers = { 'content-type': 'application/json', 'x-paxos-secret': secret, 'x-paxos-cluster': identity.clusterId ?? '', 'x-paxos-node': '2', 'x-paxos-incarnation': identity.knowsAsker ?? '' }
    const bodies = [
      'not json',
      JSON.stringify({ from: 2, to: 1, messages: [{ type: 'bogus' }] }),
      JSON.stringify({ from: 2, to: 1, messages: [{ type: 'prepare', ballot: { round: 999, node: 2 }, fromSlot: -1 }] }),
      JSON.stringify({ from: 9, to: 1, messages: [{ type: 'prepare', ballot: { round: 999, node: 2 }, fromSlot: 1 }] }),
    ]
    for (const body of bodies) {
      const response = await fetch(`${cluster.url(1)}/peer/messages`, { method: 'POST', body, headers })
      expect(response.status, body).toBe(400)
    }
    expect((await cluster.status(1))?.ballot).toEqual(before?.ballot)
  })

  it("a data directory in use, or another node's, is refused at start with exit code 2 and one line", async () => {
    const serveExit = (args: string[]) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      child.on('exit', (code) => resolve({ code, stderr }))
    })
    // Node 1 is running: a second process on its data dir is refused before it listens.
    const twin = await serveExit(cluster.serveArgs(1))
    expect(twin.code).toBe(2)
    expect(twin.stderr.trim().split('\n')).toHaveLength(1)
    expect(twin.stderr).toMatch(/in use by another process/)
    // Node 1 stopped: node 2 pointed at node 1's data is refused as someone else's.
    await cluster.kill(1)
    const foreign = await serveExit(cluster.serveArgs(2, join(cluster.dataRoot, '1')))
    expect(foreign.code).toBe(2)
    expect(foreign.stderr.trim().split('\n')).toHaveLength(1)
    expect(foreign.stderr).toMatch(/belongs to node 1/)
  })
})
