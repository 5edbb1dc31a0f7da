/**
 * Goal: the composed node (compose.ts) wires the core to SQLite, the loop and HTTP correctly: a
 * one-node cluster elects itself, applies writes with increasing versions, answers cas mismatches, applies a
 * retried Idempotency-Key once, passes linearizable read barriers, reports status and metrics,
 * serves HTTP on the bound port, and keeps everything across stop and a new start on the data.
 * Snapshots: taken every few slots, the newest two kept, a restart restores the newest and
 * replays the log after it; the log is truncated behind each durable snapshot but for the
 * retained tail, and a restart from snapshot + tail loses nothing; a damaged newest snapshot is
 * passed over while the log covers the gap, and refused when it does not; a data dir of the build that kept the KV state in SQLite tables
 * starts and replays its log; the quota refuses growth with 507 and lets deletes through.
 * Method: a real node, built by composeNode as the CLI builds it, in-process on a temp dir and
 * port 0, driven through NodeService.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { NodeConfig } from '../../src/config/config.js'
import Database from 'better-sqlite3'
import { nodeId, revision, slot } from '../../src/core/index.js'
import { KvStateMachine } from '../../src/kv/kv-state-machine.js'
import { FileSnapshotStore } from '../../src/storage/file-snapshot-store.js'
import { databaseFileName, snapshotsDirName } from '../../src/storage/data-dir.js'
import { migrate } from '../../src/storage/migrate.js'
import { composeNode } from '../../src/node/compose.js'
import type { PaxosNode } from '../../src/node/node.js'
import type { WriteRequest } from '../../src/server/node-service.js'
import { createLogger } from '../../src/observability/logger.js'

const root = mkdtempSync(join(tmpdir(), 'paxos-kv-node-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const config: NodeConfig = Object.freeze({
  id: nodeId(1),
  host: '127.0.0.1',
  port: 0,
  dataDir: join(root, '1'),
  members: [{ id: nodeId(1), url: 'http://127.0.0.1:1' }],
  join: null,
  clusterId: 'node-test',
  secret: 'node-test-secret',
  insecureSecret: false,
  fsync: 'full',
  requestTimeoutMs: 5000,
  tickMs: 5,
  valueBytesMax: 1024,
  snapshotEverySlots: 10_000,
  snapshotEveryWrites: 1_000_000,
  snapshotEveryBytes: 1024 ** 3,
  snapshotChunkBytes: 256 * 1024,
  logRetainSlots: 5_000,
  quotaBytes: 1024 * 1024 * 1024,
  historyRevisions: 1000,
  logLevel: 'silent',
  debugStep: false,
  etcdPort: 0,
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
    const nodeComposed = composeNode(config, createLogger({}, 'silent'))
    const node = nodeComposed.node
    const port = await nodeComposed.start()
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
      expect(node.range('', 10, null).items.map((item) => item.key)).toEqual(['a', 'b'])
      expect(node.status()).toMatchObject({ id: 1, role: 'leader', leader: 1, revision: 3, peers: [] })
      const text = await node.metrics()
      // Six commands went through the log: the leader's lease epoch marker, the cas mismatch and
      // the idempotent retry included.
      expect(text).toMatch(/^paxos_kv_commands_applied_total 6$/m)
      expect(text).toMatch(/^paxos_kv_applied_index \d+$/m)
      const response = await fetch(`http://127.0.0.1:${port}/v1/kv/a`)
      expect(await response.text()).toBe('two')
      expect(response.headers.get('x-version')).toBe('2')
      expect(node.peerUrl(nodeId(1))).toBe('http://127.0.0.1:1')
      expect(node.peerUrl(nodeId(2))).toBeNull()
    } finally {
      await nodeComposed.stop()
    }
    const againComposed = composeNode(config, createLogger({}, 'silent'))
    const again = againComposed.node
    await againComposed.start()
    try {
      expect(again.get('a')?.version).toBe(2)
      expect(again.status().revision).toBe(3)
      // A retry after the restart still finds the record: applied once, same answer.
      expect(await writeWhenLeader(again, put('b', 'once', { idempotencyKey: 'retry-1' }))).toMatchObject({ type: 'ok', version: 3 })
      expect(await again.write(put('c', 'new'), again.nowMs() + 5000)).toMatchObject({ type: 'ok', version: 4 })
    } finally {
      await againComposed.stop()
    }
  })

  it('a write or read whose deadline has passed is a timeout, not a lost answer', async () => {
    const nodeComposed = composeNode({ ...config, dataDir: join(root, 'timeout') }, createLogger({}, 'silent'))
    const node = nodeComposed.node
    await nodeComposed.start()
    try {
      await writeWhenLeader(node, put('warm', 'up'))
      expect(await node.write(put('late', 'x'), node.nowMs())).toEqual({ type: 'timeout' })
      expect(await node.readBarrier(node.nowMs())).toEqual({ type: 'timeout' })
    } finally {
      await nodeComposed.stop()
    }
  })

  it('snapshots every few slots, keeps the newest two, and restarts from the newest plus the log after it', async () => {
    const dataDir = join(root, 'snapshots')
    const snapshotting = { ...config, dataDir, snapshotEverySlots: 4 }
    const nodeComposed = composeNode(snapshotting, createLogger({}, 'silent'))
    const node = nodeComposed.node
    await nodeComposed.start()
    try {
      for (let index = 0; index < 30; index += 1) expect(await writeWhenLeader(node, put(`k${index % 7}`, `v${index}`))).toMatchObject({ type: 'ok', version: index + 1 })
      await until(() => readdirSync(join(dataDir, snapshotsDirName)).length === 2 && /paxos_kv_snapshots_written_total [3-9]/.test(String(lastMetrics)), async () => (lastMetrics = await node.metrics()))
    } finally {
      await nodeComposed.stop()
    }
    expect(readdirSync(join(dataDir, snapshotsDirName)).every((name) => /^snapshot-\d{16}\.snap$/.test(name))).toBe(true)
    const againComposed = composeNode(snapshotting, createLogger({}, 'silent'))
    const again = againComposed.node
    await againComposed.start()
    try {
      // Before any new write: the snapshot and the replayed tail together hold all 30 writes.
      expect(again.status().revision).toBe(30)
      expect(again.range('', 10, null).items.map((item) => [item.key, new TextDecoder().decode(item.value)])).toEqual(
        [['k0', 'v28'], ['k1', 'v29'], ['k2', 'v23'], ['k3', 'v24'], ['k4', 'v25'], ['k5', 'v26'], ['k6', 'v27']],
      )
      expect(await writeWhenLeader(again, put('after', 'restart'))).toMatchObject({ type: 'ok', version: 31 })
    } finally {
      await againComposed.stop()
    }
  })

  it('truncates the log behind each durable snapshot, keeping the retained tail, and restarts from snapshot + tail', async () => {
    const dataDir = join(root, 'truncation')
    const truncating = { ...config, dataDir, snapshotEverySlots: 5, logRetainSlots: 3 }
    let lastSlot = 0
    const nodeComposed = composeNode(truncating, createLogger({}, 'silent'))
    const node = nodeComposed.node
    await nodeComposed.start()
    try {
      for (let index = 0; index < 40; index += 1) expect(await writeWhenLeader(node, put(`k${index % 3}`, `v${index}`))).toMatchObject({ type: 'ok', version: index + 1 })
      // Besides the 40 writes the log holds the leader's noop and its lease epoch marker (one
      // slot or two, or more should the marker be proposed again): the snapshot every 5 slots
      // at or below the last one is the newest, and the log is truncated 3 slots behind it.
      lastSlot = node.status().appliedIndex
      await until(() => Number(/paxos_kv_log_compacted_through (\d+)/.exec(lastMetrics)?.[1] ?? 0) >= Math.floor(lastSlot / 5) * 5 - 3, async () => (lastMetrics = await node.metrics()))
    } finally {
      await nodeComposed.stop()
    }
    const db = new Database(join(dataDir, databaseFileName), { readonly: true })
    const through = (db.prepare('SELECT through FROM log_compaction WHERE id = 1').get() as { through: number }).through
    const rows = db.prepare('SELECT MIN(slot) AS first, COUNT(*) AS count FROM log').get() as { first: number; count: number }
    const newest = readdirSync(join(dataDir, snapshotsDirName)).map((name) => Number(/\d+/.exec(name)![0])).sort((a, b) => b - a)[0]!
    db.close()
    // Only the retained tail behind the newest snapshot and the slots after it are left.
    expect(through).toBe(newest - 3)
    expect(rows.first).toBe(through + 1)
    expect(rows.count).toBeLessThanOrEqual(lastSlot - through)
    const againComposed = composeNode(truncating, createLogger({}, 'silent'))
    const again = againComposed.node
    await againComposed.start()
    try {
      expect(again.status().revision).toBe(40)
      expect(again.range('', 10, null).items.map((item) => [item.key, new TextDecoder().decode(item.value)])).toEqual([['k0', 'v39'], ['k1', 'v37'], ['k2', 'v38']])
      expect(await writeWhenLeader(again, put('after', 'restart'))).toMatchObject({ type: 'ok', version: 41 })
    } finally {
      await againComposed.stop()
    }
  })

  it('falls back past a damaged newest snapshot while the log covers the gap, and refuses once it does not', async () => {
    const damageNewest = (dataDir: string): string => {
      const dir = join(dataDir, snapshotsDirName)
      const newest = readdirSync(dir).filter((name) => name.endsWith('.snap')).sort().reverse()[0]!
      const bytes = readFileSync(join(dir, newest))
      bytes[bytes.length >> 1]! ^= 0xff
      writeFileSync(join(dir, newest), bytes)
      return newest
    }
    const run = async (dataDir: string, logRetainSlots: number): Promise<void> => {
      const nodeComposed = composeNode({ ...config, dataDir, snapshotEverySlots: 4, logRetainSlots }, createLogger({}, 'silent'))
      const node = nodeComposed.node
      await nodeComposed.start()
      try {
        for (let index = 0; index < 30; index += 1) await writeWhenLeader(node, put(`k${index % 5}`, `v${index}`))
        await until(() => readdirSync(join(dataDir, snapshotsDirName)).length === 2 && /paxos_kv_snapshots_written_total [3-9]/.test(String(lastMetrics)), async () => (lastMetrics = await node.metrics()))
      } finally {
        await nodeComposed.stop()
      }
    }
    // The log keeps 100 slots behind the newest snapshot: it covers the one before it.
    const covered = join(root, 'damaged-covered')
    await run(covered, 100)
    const damaged = damageNewest(covered)
    const againComposed = composeNode({ ...config, dataDir: covered, snapshotEverySlots: 4, logRetainSlots: 100 }, createLogger({}, 'silent'))
    const again = againComposed.node
    await againComposed.start()
    try {
      expect(again.status().revision).toBe(30)
      expect(again.range('', 10, null).items.map((item) => new TextDecoder().decode(item.value))).toEqual(['v25', 'v26', 'v27', 'v28', 'v29'])
      expect(readdirSync(join(covered, snapshotsDirName))).toContain(`${damaged}.damaged`)
    } finally {
      await againComposed.stop()
    }
    // Truncated right behind the newest snapshot: nothing can stand in for it.
    const truncated = join(root, 'damaged-truncated')
    await run(truncated, 0)
    damageNewest(truncated)
    expect(() => composeNode({ ...config, dataDir: truncated, snapshotEverySlots: 4, logRetainSlots: 0 }, createLogger({}, 'silent'))).toThrow(/snapshot: the log is truncated through slot \d+: .*corrupt.*no older snapshot can stand in for it/)
    expect(readdirSync(join(truncated, snapshotsDirName)).some((name) => name.endsWith('.damaged'))).toBe(false)
  })

  it('starts on a data dir whose KV state the previous build kept in SQLite, by replaying its log', async () => {
    const dataDir = join(root, 'old-format')
    mkdirSync(dataDir)
    const db = new Database(join(dataDir, databaseFileName))
    migrate(db, { throughVersion: 5 })
    db.prepare('INSERT INTO meta (id, cluster_id, node_id, created_at_ms, format_version) VALUES (1, ?, 1, 0, 5)').run(config.clusterId)
    db.prepare('UPDATE promised SET round = 1, node = 1').run()
    const logRow = db.prepare('INSERT INTO log (slot, round, node, value, chosen) VALUES (?, 1, 1, ?, 1)')
    const command = (slot: number, key: string, text: string) => JSON.stringify([{ type: 'put', proposal: `old-${slot}`, key, value: Buffer.from(text).toString('base64'), cas: null, idempotency: { key: `idem-${slot}`, atMs: 1 } }])
    logRow.run(1, command(1, 'a', 'one'))
    logRow.run(2, command(2, 'b', 'two'))
    logRow.run(3, command(3, 'a', 'three'))
    db.prepare('INSERT INTO kv (key, value, version) VALUES (?, ?, ?), (?, ?, ?)').run('a', Buffer.from('three'), 3, 'b', Buffer.from('two'), 2)
    db.prepare('UPDATE state SET applied_index = 3, revision = 3').run()
    db.close()
    const nodeComposed = composeNode({ ...config, dataDir }, createLogger({}, 'silent'))
    const node = nodeComposed.node
    await nodeComposed.start()
    try {
      expect(node.status()).toMatchObject({ appliedIndex: 3, revision: 3 })
      expect(new TextDecoder().decode(node.get('a')!.value)).toBe('three')
      expect(node.get('b')!.version).toBe(2)
      // The idempotency records came back with the replay: a retry of slot 2's write is answered, not applied.
      const retry = await writeWhenLeader(node, { ...put('b', 'two'), idempotencyKey: 'idem-2' })
      expect(retry).toMatchObject({ type: 'ok', version: 2, deleted: null })
    } finally {
      await nodeComposed.stop()
    }
  })

  it('rebuilds from the whole log when the newest snapshot is of format 1 (no key metadata); refuses it once the log is truncated', async () => {
    const dataDir = join(root, 'format-1')
    const nodeComposed = composeNode({ ...config, dataDir }, createLogger({}, 'silent'))
    const node = nodeComposed.node
    await nodeComposed.start()
    try {
      for (const [key, value] of [['a', '1'], ['b', '2'], ['a', '3']] as const) await writeWhenLeader(node, put(key, value))
    } finally {
      await nodeComposed.stop()
    }
    // A snapshot in the old format covering all three slots, holding other data: it must be ignored.
    const stale = new KvStateMachine()
    stale.apply([{ slot: slot(1), value: [{ type: 'noop' }] }, { slot: slot(2), value: [{ type: 'noop' }] }, { slot: slot(3), value: [{ type: 'put', proposal: 'x', key: 'ghost', value: 'eA==', cas: null, idempotency: null }] }])
    const chunks = [...stale.snapshot().chunks()].map((chunk) => Buffer.from(chunk))
    chunks[0]!.writeUInt16LE(1, 9)
    const sink = new FileSnapshotStore(join(dataDir, snapshotsDirName), config.clusterId).create(slot(3), revision(1))
    for (const chunk of chunks) sink.write(chunk)
    await sink.commit()
    const againComposed = composeNode({ ...config, dataDir }, createLogger({}, 'silent'))
    const again = againComposed.node
    await againComposed.start()
    try {
      expect(again.get('ghost')).toBeNull()
      expect(again.get('a')).toMatchObject({ version: 3, createRevision: 1, writes: 2 })
      expect(again.revision()).toBe(3)
    } finally {
      await againComposed.stop()
    }
    const db = new Database(join(dataDir, databaseFileName))
    db.prepare('DELETE FROM log WHERE slot <= 1').run()
    db.prepare('UPDATE log_compaction SET through = 1').run()
    db.close()
    expect(() => composeNode({ ...config, dataDir }, createLogger({}, 'silent'))).toThrow(/format 1 has no key metadata/)
  })

  it('refuses puts that grow live data past the quota with 507, and lets deletes and shrinking puts through', async () => {
    const nodeComposed = composeNode({ ...config, dataDir: join(root, 'quota'), quotaBytes: 400 }, createLogger({}, 'silent'))
    const node = nodeComposed.node
    const port = await nodeComposed.start()
    try {
      expect(await writeWhenLeader(node, put('a', 'x'.repeat(100)))).toMatchObject({ type: 'ok' })
      expect(await node.write(put('b', 'y'.repeat(300)), node.nowMs() + 5000)).toEqual({ type: 'quota_exceeded' })
      const response = await fetch(`http://127.0.0.1:${port}/v1/kv/b`, { method: 'PUT', body: 'y'.repeat(300) })
      expect(response.status).toBe(507)
      expect(await response.json()).toMatchObject({ error: 'quota_exceeded' })
      expect(await node.write(put('a', 'small'), node.nowMs() + 5000)).toMatchObject({ type: 'ok' })
      expect(await node.write({ type: 'delete', key: 'a', cas: null, idempotencyKey: null, requestId: null }, node.nowMs() + 5000)).toMatchObject({ type: 'ok', deleted: true })
      expect(await node.write(put('b', 'y'.repeat(200)), node.nowMs() + 5000)).toMatchObject({ type: 'ok' })
    } finally {
      await nodeComposed.stop()
    }
  })
})

let lastMetrics = ''

/** Polls `check` (after running `refresh`) until it holds; gives up after 10 s. */
async function until(check: () => boolean, refresh: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    await refresh()
    if (check()) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error('condition not reached in 10 s')
}
