/**
 * Goal: the KV semantics hold over every KvStore: versions are cluster revisions, every applied
 * write (including a delete of a missing key) increments the revision, cas compares versions and
 * a mismatch changes nothing, idempotency keys and forwarded requests' ids apply once (cas
 * mismatches included), a key reused for another request is refused, records expire by log
 * time and are bounded by count without forgetting a young one, lists are in UTF-8 byte order.
 * Method: commands applied through KvStateMachine over the in-memory store.
 */
import { describe, expect, it } from 'vitest'
import { revision, slot } from '../../src/core/index.js'
import { type Command, type WriteCommand } from '../../src/kv/command.js'
import { limits } from '../../src/core/limits.js'
import { KvMemoryStore } from '../../src/kv/kv-memory-store.js'
import { KvStateMachine, type KvStateMachineOptions } from '../../src/kv/kv-state-machine.js'

const idempotencyRetentionMs = limits.idempotencyRetentionMs
const requestRetentionMs = limits.requestRecordRetentionMs
const bounded = (recordsMax: number): KvStateMachineOptions => ({
  idempotency: { recordsMax, retentionMs: idempotencyRetentionMs },
  request: { recordsMax, retentionMs: requestRetentionMs },
})

let proposals = 0
function put(key: string, text: string, extra: Partial<WriteCommand> = {}): WriteCommand {
  proposals += 1
  return { type: 'put', proposal: `p${proposals}`, key, value: Buffer.from(text).toString('base64'), cas: null, idempotency: null, ...extra } as WriteCommand
}
function del(key: string, extra: Partial<WriteCommand> = {}): WriteCommand {
  proposals += 1
  return { type: 'delete', proposal: `p${proposals}`, key, cas: null, idempotency: null, ...extra } as WriteCommand
}

export function runStateMachineContract(): void {
  describe('KV state machine', () => {
    let next = 1
    const machine = (options: KvStateMachineOptions = {}) => new KvStateMachine(options)
    const applyAll = (sm: KvStateMachine, ...batches: Command[][]) =>
      batches.flatMap((commands) => sm.apply([{ slot: slot(sm.appliedIndex() + 1), value: commands }]))
    const text = (sm: KvStateMachine, key: string) => {
      const item = sm.get(key)
      return item === null ? null : Buffer.from(item.value).toString()
    }

    it('puts and deletes increment the revision once each; a noop does not', () => {
      const sm = machine()
      const results = applyAll(sm, [put('a', '1'), put('b', '2')], [{ type: 'noop' }], [del('a'), del('missing')])
      expect(results.map((r) => r.result)).toEqual([
        { type: 'written', revision: 1, deleted: null },
        { type: 'written', revision: 2, deleted: null },
        { type: 'written', revision: 3, deleted: true },
        { type: 'written', revision: 4, deleted: false },
      ])
      expect(sm.revision()).toBe(4)
      expect(sm.appliedIndex()).toBe(3)
      expect(text(sm, 'a')).toBeNull()
      expect(sm.get('b')?.version).toBe(2)
      next += 1
    })

    it('keeps key metadata: created at its first put, writes counted, kept by failed writes, started over after a delete', () => {
      const sm = machine()
      const meta = (key: string) => {
        const item = sm.get(key)
        return item === null ? null : { version: item.version, createRevision: item.createRevision, writes: item.writes, lease: item.lease }
      }
      applyAll(sm, [put('m', '1'), put('other', 'x')], [put('m', '2')])
      expect(meta('m')).toEqual({ version: 3, createRevision: 1, writes: 2, lease: null })
      expect(meta('other')).toEqual({ version: 2, createRevision: 2, writes: 1, lease: null })
      applyAll(sm, [put('m', 'no', { cas: revision(1) }), put('m', '3', { cas: revision(3) })])
      expect(meta('m')).toEqual({ version: 4, createRevision: 1, writes: 3, lease: null })
      applyAll(sm, [del('m')], [put('m', 'again')])
      expect(meta('m')).toEqual({ version: 6, createRevision: 6, writes: 1, lease: null })
      expect(sm.range('', 10).items.map((item) => [item.key, item.createRevision, item.writes])).toEqual([['m', 6, 1], ['other', 2, 1]])
    })

    it('cas: 0 means absent, n means version n; a mismatch reports the version and changes nothing', () => {
      const sm = machine()
      const results = applyAll(sm,
        [put('k', 'first', { cas: revision(0) })],
        [put('k', 'nope', { cas: revision(0) })],
        [put('k', 'second', { cas: revision(1) })],
        [del('k', { cas: revision(7) })],
        [del('gone', { cas: revision(3) })],
      )
      expect(results.map((r) => r.result)).toEqual([
        { type: 'written', revision: 1, deleted: null },
        { type: 'cas_mismatch', revision: 1 },
        { type: 'written', revision: 2, deleted: null },
        { type: 'cas_mismatch', revision: 2 },
        { type: 'cas_mismatch', revision: 0 },
      ])
      expect(text(sm, 'k')).toBe('second')
      expect(sm.revision()).toBe(2)
    })

    it('an idempotency key applies once and answers a retry with the first result', () => {
      const sm = machine()
      const idempotency = { key: 'retry-1', atMs: 1_000 }
      const results = applyAll(sm, [put('k', 'v1', { idempotency })], [put('k', 'v1', { idempotency: { ...idempotency, atMs: 2_000 } })])
      expect(results[1]!.result).toEqual(results[0]!.result)
      expect(text(sm, 'k')).toBe('v1')
      expect(sm.revision()).toBe(1)
    })

    it('an idempotency key reused for another request is refused and changes nothing', () => {
      const sm = machine()
      const idempotency = { key: 'once', atMs: 1_000 }
      applyAll(sm, [put('k', 'v1', { idempotency })])
      const reused = applyAll(sm, [put('k', 'v2', { idempotency })], [del('k', { idempotency })], [put('other', 'v1', { idempotency })], [put('k', 'v1', { idempotency, cas: revision(1) })])
      expect(reused.map((applied) => applied.result)).toEqual(Array(4).fill({ type: 'idempotency_key_reused' }))
      expect(text(sm, 'k')).toBe('v1')
      expect(sm.get('other')).toBeNull()
      expect(sm.revision()).toBe(1)
      // The request it was first used for still gets its first result.
      expect(applyAll(sm, [put('k', 'v1', { idempotency })])[0]!.result).toEqual({ type: 'written', revision: 1, deleted: null })
    })

    it('a forwarded request id applies once: every copy of the request gets the first result', () => {
      const sm = machine()
      const request = { id: 'n2-abc-r7', atMs: 1_000 }
      const results = applyAll(sm, [del('k', { request }), put('k', 'v', { request: { id: 'n2-abc-r8', atMs: 1_000 } })], [del('k', { request: { ...request, atMs: 1_500 } })])
      expect(results.map((applied) => applied.result)).toEqual([
        { type: 'written', revision: 1, deleted: false },
        { type: 'written', revision: 2, deleted: null },
        { type: 'written', revision: 1, deleted: false },
      ])
      expect(text(sm, 'k')).toBe('v')
      expect(sm.revision()).toBe(2)
    })

    it('request-id records expire after their own, shorter retention, on log time', () => {
      const sm = machine()
      applyAll(sm, [put('k', 'v1', { request: { id: 'r-old', atMs: 0 } })])
      applyAll(sm, [put('x', 'y', { request: { id: 'r-edge', atMs: requestRetentionMs } })])
      expect(applyAll(sm, [put('k', 'v1', { request: { id: 'r-old', atMs: requestRetentionMs } })])[0]!.result).toEqual({ type: 'written', revision: 1, deleted: null })
      applyAll(sm, [put('x', 'z', { request: { id: 'r-new', atMs: requestRetentionMs + 1 } })])
      expect(applyAll(sm, [put('k', 'v1', { request: { id: 'r-old', atMs: requestRetentionMs + 2 } })])[0]!.result).toEqual({ type: 'written', revision: 4, deleted: null })
      // An idempotency key of the same age is still remembered: each space has its own retention.
      applyAll(sm, [put('i', '1', { idempotency: { key: 'client', atMs: 0 } })])
      expect(applyAll(sm, [put('i', '1', { idempotency: { key: 'client', atMs: requestRetentionMs + 3 } })])[0]!.result).toEqual({ type: 'written', revision: 5, deleted: null })
    })

    it('forgets idempotency records older than the retention, measured on the log', () => {
      const sm = machine()
      applyAll(sm, [put('k', 'v1', { idempotency: { key: 'old', atMs: 0 } })])
      applyAll(sm, [put('x', 'y', { idempotency: { key: 'new', atMs: idempotencyRetentionMs + 1 } })])
      const retried = applyAll(sm, [put('k', 'v2', { idempotency: { key: 'old', atMs: idempotencyRetentionMs + 2 } })])
      expect(retried[0]!.result).toEqual({ type: 'written', revision: 3, deleted: null })
    })

    it('records a cas mismatch under its idempotency key: a retry gets the mismatch, not a write', () => {
      const sm = machine()
      const idempotency = { key: 'create-once', atMs: 5_000 }
      const results = applyAll(sm,
        [put('k', 'existing')],
        [put('k', 'mine', { cas: revision(0), idempotency })],
        [del('k')],
        [put('k', 'mine', { cas: revision(0), idempotency })],
      )
      expect(results.map((r) => r.result)).toEqual([
        { type: 'written', revision: 1, deleted: null },
        { type: 'cas_mismatch', revision: 1 },
        { type: 'written', revision: 2, deleted: true },
        { type: 'cas_mismatch', revision: 1 },
      ])
      expect(sm.get('k')).toBeNull()
      expect(sm.revision()).toBe(2)
    })

    it('at the record bound, refuses a new keyed write rather than forget a young record', () => {
      const sm = machine(bounded(3))
      const write = (key: string, atMs: number) => put(`value-of-${key}`, 'v', { idempotency: { key, atMs } })
      applyAll(sm, [write('k1', 1_000)], [write('k2', 2_000)], [write('k3', 3_000)])
      const refused = applyAll(sm, [write('k4', 4_000), put('plain', 'v')])
      expect(refused.map((applied) => applied.result)).toEqual([{ type: 'records_full' }, { type: 'written', revision: 4, deleted: null }])
      expect(sm.get('value-of-k4')).toBeNull()
      // Every record still answers its retry; a retry needs no new record, so it is not refused.
      expect(applyAll(sm, [write('k1', 5_000)])[0]!.result).toEqual({ type: 'written', revision: 1, deleted: null })
      // Once the oldest is past the retention, the next keyed write takes its place.
      const later = applyAll(sm, [write('k4', 1_000 + idempotencyRetentionMs + 1)], [write('k5', 1_000 + idempotencyRetentionMs + 1)])
      expect(later.map((applied) => applied.result)).toEqual([{ type: 'written', revision: 5, deleted: null }, { type: 'records_full' }])
      expect(applyAll(sm, [write('k2', 2_000 + idempotencyRetentionMs)])[0]!.result).toEqual({ type: 'written', revision: 2, deleted: null })
    })

    it('expires oldest first: a record with an older clock behind a younger one waits for it', () => {
      const sm = machine()
      const write = (key: string, atMs: number) => put(key, 'v', { idempotency: { key, atMs } })
      applyAll(sm, [write('young', 5_000)], [write('skewed', 0)])
      applyAll(sm, [write('now', 1_000 + idempotencyRetentionMs)])
      // 'skewed' is past its retention, but kept longer (never shorter) behind 'young'.
      expect(applyAll(sm, [write('skewed', 1_000 + idempotencyRetentionMs)])[0]!.result).toEqual({ type: 'written', revision: 2, deleted: null })
      applyAll(sm, [write('later', 5_001 + idempotencyRetentionMs)])
      expect(applyAll(sm, [write('skewed', 5_001 + idempotencyRetentionMs)])[0]!.result).toEqual({ type: 'written', revision: 5, deleted: null })
    })

    it('keeps a record for the full retention, measured on the log', () => {
      const sm = machine()
      applyAll(sm, [put('k', 'v1', { idempotency: { key: 'edge', atMs: 0 } })])
      applyAll(sm, [put('x', 'y', { idempotency: { key: 'other', atMs: idempotencyRetentionMs } })])
      const retried = applyAll(sm, [put('k', 'v1', { idempotency: { key: 'edge', atMs: idempotencyRetentionMs } })])
      expect(retried[0]!.result).toEqual({ type: 'written', revision: 1, deleted: null })
    })

    it('stores raw bytes and hands out copies that cannot edit the store', () => {
      const sm = machine()
      const bytes = Buffer.from([0, 255, 128, 10])
      applyAll(sm, [{ type: 'put', proposal: 'raw', key: 'bin', value: bytes.toString('base64'), cas: null, idempotency: null }])
      sm.get('bin')!.value.fill(7)
      sm.range('b', 1).items[0]!.value.fill(7)
      expect(Buffer.from(sm.get('bin')!.value).equals(bytes)).toBe(true)
    })

    it('refuses a gap or a repeat in applied slots', () => {
      const sm = machine()
      applyAll(sm, [put('k', 'v')])
      expect(() => sm.apply([{ slot: slot(1), value: [{ type: 'noop' }] }])).toThrow(/gap or repeat/)
      expect(() => sm.apply([{ slot: slot(3), value: [{ type: 'noop' }] }])).toThrow(/gap or repeat/)
    })

    it('resumes a listing strictly after a key, present or not', () => {
      const sm = machine()
      applyAll(sm, ['a/1', 'a/2', 'a/3', 'b/1'].map((key) => put(key, key)))
      const keysOf = (page: { items: readonly { key: string }[] }) => page.items.map((item) => item.key)
      expect(keysOf(sm.range('a/', 10, 'a/1'))).toEqual(['a/2', 'a/3'])
      expect(keysOf(sm.range('a/', 1, 'a/1'))).toEqual(['a/2'])
      expect(sm.range('a/', 1, 'a/1').more).toBe(true)
      expect(keysOf(sm.range('a/', 10, 'a/25'))).toEqual(['a/3'])
      expect(keysOf(sm.range('a/', 10, 'a'))).toEqual(['a/1', 'a/2', 'a/3']) // before the prefix: from its start
      expect(keysOf(sm.range('a/', 10, 'a/3'))).toEqual([])
      expect(keysOf(sm.range('a/', 10, 'z'))).toEqual([])
    })

    it('lists by prefix in UTF-8 byte order, with more when cut', () => {
      const sm = machine()
      applyAll(sm, ['a/\u{1F600}', 'a/z', 'a/\u00e9', 'a/b', 'b/1', 'a'].map((key) => put(key, key)))
      const listed = sm.range('a/', 10)
      expect(listed.items.map((item) => item.key)).toEqual(['a/b', 'a/z', 'a/\u00e9', 'a/\u{1F600}'])
      expect(listed.more).toBe(false)
      const cut = sm.range('a/', 2)
      expect(cut.items.map((item) => item.key)).toEqual(['a/b', 'a/z'])
      expect(cut.more).toBe(true)
      expect(sm.range('', 100).items).toHaveLength(6)
    })

    it('keeps records as one queue per space: oldest first, counted', () => {
      expect(limits.idempotencyRecordsMax).toBeGreaterThan(0)
      const store = new KvMemoryStore()
      const record = (atMs: number) => ({ result: { type: 'cas_mismatch', revision: revision(atMs) } as const, atMs, fingerprint: atMs % 2 === 0 ? null : `f${atMs}` })
      for (let index = 0; index < 4; index += 1) store.recordPut('idempotency', `k${index}`, record(index))
      store.recordPut('request', 'k0', record(9))
      expect(store.recordCount('idempotency')).toBe(4)
      expect(store.recordCount('request')).toBe(1)
      expect(store.recordOldest('idempotency')).toEqual({ key: 'k0', record: record(0) })
      expect(store.recordGet('idempotency', 'k3')).toEqual(record(3))
      expect(store.recordGet('request', 'k0')).toEqual(record(9))
      store.recordDeleteOldest('idempotency')
      expect(store.recordGet('idempotency', 'k0')).toBeNull()
      expect(store.recordOldest('idempotency')).toEqual({ key: 'k1', record: record(1) })
      expect(store.recordCount('idempotency')).toBe(3)
      expect(store.recordOldest('request')?.key).toBe('k0')
    })
  })
}
