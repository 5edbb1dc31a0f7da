/**
 * Goal: the KV semantics hold over the store: versions are cluster revisions, every applied
 * write (including a delete of a missing key) increments the revision, cas compares versions and
 * a mismatch changes nothing, idempotency keys apply once (cas mismatches included) and their
 * records are evicted by log time and by count, lists are in UTF-8 byte order.
 * Method: commands applied through KvStateMachine.
 */
import { describe, expect, it } from 'vitest'
import { revision, slot, type Command, type WriteCommand } from '../../src/core/index.js'
import { limits } from '../../src/core/limits.js'
import { idempotencyRetentionMs } from '../../src/kv/kv.js'
import { KvStateMachine, type KvStateMachineOptions } from '../../src/kv/kv-state-machine.js'
import { KvMemoryStore } from '../../src/kv/kv-memory-store.js'

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
      const results = applyAll(sm, [put('k', 'v1', { idempotency })], [put('k', 'v2', { idempotency })])
      expect(results[1]!.result).toEqual(results[0]!.result)
      expect(text(sm, 'k')).toBe('v1')
      expect(sm.revision()).toBe(1)
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

    it('keeps exactly idempotencyRecordsMax records, evicting the oldest applied first', () => {
      // k2 carries an old clock, so log-time eviction takes it from the middle; the count bound
      // must still keep the newest five, not count positions.
      const sm = machine({ idempotencyRecordsMax: 5 })
      const write = (key: string, atMs: number) => put(`value-of-${key}`, key, { idempotency: { key, atMs } })
      applyAll(sm, [write('k1', 1_000)], [write('k2', 0)], [write('k3', 1_000)], [write('k4', 1_000)])
      applyAll(sm, [write('k5', idempotencyRetentionMs + 1)], [write('k6', idempotencyRetentionMs + 2)])
      expect(sm.revision()).toBe(6)
      const kept = applyAll(sm, [write('k1', idempotencyRetentionMs + 3)])
      expect(kept[0]!.result).toEqual({ type: 'written', revision: 1, deleted: null })
      expect(sm.revision()).toBe(6)
      applyAll(sm, [write('k7', idempotencyRetentionMs + 4)])
      const evicted = applyAll(sm, [write('k1', idempotencyRetentionMs + 5)], [write('k3', idempotencyRetentionMs + 6)])
      expect(evicted.map((r) => r.result)).toEqual([
        { type: 'written', revision: 8, deleted: null },
        { type: 'written', revision: 9, deleted: null },
      ])
    })

    it('keeps a record for the full retention, measured on the log', () => {
      const sm = machine()
      applyAll(sm, [put('k', 'v1', { idempotency: { key: 'edge', atMs: 0 } })])
      applyAll(sm, [put('x', 'y', { idempotency: { key: 'other', atMs: idempotencyRetentionMs } })])
      const retried = applyAll(sm, [put('k', 'v2', { idempotency: { key: 'edge', atMs: idempotencyRetentionMs } })])
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

    it('bounds idempotency records by count too', () => {
      expect(limits.idempotencyRecordsMax).toBeGreaterThan(0)
      const store = new KvMemoryStore()
      for (let index = 0; index < 5; index += 1) {
        store.idempotencyEvict(0, 2)
        store.idempotencyPut(`k${index}`, { result: { type: 'cas_mismatch', revision: revision(0) }, atMs: 1 })
      }
      store.idempotencyEvict(0, 2)
      expect(['k0', 'k1', 'k2'].map((key) => store.idempotencyGet(key))).toEqual([null, null, null])
      expect(store.idempotencyGet('k4')).not.toBeNull()
    })
  })
}
