/**
 * Goal: PaxosNode wires the core to SQLite, the loop and HTTP correctly: a one-node cluster
 * elects itself, applies writes with increasing versions, answers cas mismatches, applies a
 * retried Idempotency-Key once, passes linearizable read barriers, reports status and metrics,
 * serves HTTP on the bound port, and keeps everything across stop and a new start on the data.
 * Method: a real PaxosNode in-process on a temp dir and port 0, driven through NodeService.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Config } from '../../src/config/config.js'
import { nodeId, revision } from '../../src/core/index.js'
import { PaxosNode } from '../../src/node/node.js'
import type { WriteRequest } from '../../src/node/node-service.js'
import { createLogger } from '../../src/observability/logger.js'

const root = mkdtempSync(join(tmpdir(), 'paxos-kv-node-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const config: Config = Object.freeze({
  id: nodeId(1),
  host: '127.0.0.1',
  port: 0,
  dataDir: join(root, '1'),
  members: [{ id: nodeId(1), url: 'http://127.0.0.1:1' }],
  clusterId: 'node-test',
  secret: 'node-test-secret',
  insecureSecret: false,
  fsync: 'full',
  requestTimeoutMs: 5000,
  tickMs: 5,
  valueBytesMax: 1024,
  logLevel: 'silent',
  debugStep: false,
})

const put = (key: string, value: string, extra: Partial<{ cas: number; idempotencyKey: string }> = {}): WriteRequest => ({
  type: 'put', key, value: new TextEncoder().encode(value), cas: extra.cas === undefined ? null : revision(extra.cas), idempotencyKey: extra.idempotencyKey ?? null, requestId: null,
})

/** A single node elects itself after an election timeout; until then writes are not_leader. */
async function writeWhenLeader(node: PaxosNode, request: WriteRequest) {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const outcome = await node.write(request, node.nowMs() + 5000)
    if (outcome.type !== 'not_leader') return outcome
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error('no leader after 400 attempts')
}

describe('PaxosNode (one member)', () => {
  it('writes, reads, survives a restart on the same data', async () => {
    const node = new PaxosNode(config, createLogger({}, 'silent'))
    const port = await node.start()
    try {
      const one = await writeWhenLeader(node, put('a', 'one'))
      expect(one).toMatchObject({ type: 'ok', version: 1, deleted: null })
      // One member: it leads, and its own vote, after its own fsync, is the whole quorum.
      const receipt = one.type === 'ok' ? one.receipt : null
      expect(receipt).toMatchObject({ leader: 1, quorum: [1], ballot: { node: 1 } })
      expect(receipt?.fsyncMs).toBeGreaterThanOrEqual(0)
      expect(receipt?.commitMs).toBeGreaterThanOrEqual(receipt?.fsyncMs ?? 0)
      const two = await node.write(put('a', 'two', { cas: 1 }), node.nowMs() + 5000)
      expect(two).toMatchObject({ type: 'ok', version: 2, deleted: null, receipt: { slot: (receipt?.slot ?? 0) + 1 } })
      expect(await node.write(put('a', 'three', { cas: 1 }), node.nowMs() + 5000)).toEqual({ type: 'cas_mismatch', version: 2 })
      const first = await node.write(put('b', 'once', { idempotencyKey: 'retry-1' }), node.nowMs() + 5000)
      const retry = await node.write(put('b', 'once', { idempotencyKey: 'retry-1' }), node.nowMs() + 5000)
      // The retry gets the first attempt's result; its receipt is its own slot's.
      expect({ ...retry, receipt: null }).toEqual({ ...first, receipt: null })
      expect(await node.readBarrier(node.nowMs() + 5000)).toEqual({ type: 'ok' })
      expect(new TextDecoder().decode(node.get('a')!.value)).toBe('two')
      expect(node.get('a')!.version).toBe(2)
      expect(node.range('', 10).items.map((item) => item.key)).toEqual(['a', 'b'])
      expect(node.status()).toMatchObject({ id: 1, role: 'leader', leader: 1, revision: 3, peers: [] })
      const text = await node.metrics()
      // Five commands went through the log: the cas mismatch and the idempotent retry included.
      expect(text).toMatch(/^paxos_kv_commands_applied_total 5$/m)
      expect(text).toMatch(/^paxos_kv_applied_index \d+$/m)
      const response = await fetch(`http://127.0.0.1:${port}/v1/kv/a`)
      expect(await response.text()).toBe('two')
      expect(response.headers.get('x-version')).toBe('2')
      expect(node.peerUrl(nodeId(1))).toBe('http://127.0.0.1:1')
      expect(node.peerUrl(nodeId(2))).toBeNull()
    } finally {
      await node.stop()
    }
    const again = new PaxosNode(config, createLogger({}, 'silent'))
    await again.start()
    try {
      expect(again.get('a')?.version).toBe(2)
      expect(again.status().revision).toBe(3)
      // A retry after the restart still finds the record: applied once, same answer.
      expect(await writeWhenLeader(again, put('b', 'once', { idempotencyKey: 'retry-1' }))).toMatchObject({ type: 'ok', version: 3 })
      expect(await again.write(put('c', 'new'), again.nowMs() + 5000)).toMatchObject({ type: 'ok', version: 4 })
    } finally {
      await again.stop()
    }
  })

  it('a write or read whose deadline has passed is a timeout, not a lost answer', async () => {
    const node = new PaxosNode({ ...config, dataDir: join(root, 'timeout') }, createLogger({}, 'silent'))
    await node.start()
    try {
      await writeWhenLeader(node, put('warm', 'up'))
      expect(await node.write(put('late', 'x'), node.nowMs())).toEqual({ type: 'timeout' })
      expect(await node.readBarrier(node.nowMs())).toEqual({ type: 'timeout' })
    } finally {
      await node.stop()
    }
  })
})
