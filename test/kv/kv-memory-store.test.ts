/**
 * Goal: a put returns the entry it replaced, and the store's memory of its last read (which
 * spares a write its second descent of the tree) never hands a put a stale entry: the bytes it
 * counts, the leases it attaches and what views see are those of a store that looked again.
 * Method: interleavings of reads, puts and deletes of two keys, each checked against the
 * entry a fresh lookup gives and against usedBytes computed from the contents.
 */
import { describe, expect, it } from 'vitest'
import { leaseId, revision } from '../../src/core/index.js'
import { utf8Length } from '../../src/kv/key-order.js'
import { KvMemoryStore } from '../../src/kv/kv-memory-store.js'
import { entryOverheadBytes, type StoredValue } from '../../src/kv/kv-store.js'

const entry = (bytes: number, at: number, lease: string | null = null): StoredValue => ({
  value: new Uint8Array(bytes).fill(at), version: revision(at), createRevision: revision(1), writes: at, lease: lease === null ? null : leaseId(lease),
})

/** usedBytes from the contents alone: what the store must agree with. */
function expectedBytes(store: KvMemoryStore, keys: readonly string[]): number {
  let bytes = 0
  for (const key of keys) {
    const stored = store.peek(key)
    if (stored !== null) bytes += utf8Length(key) + entryOverheadBytes + stored.value.byteLength
  }
  return bytes
}

describe('KvMemoryStore puts', () => {
  it('return the entry they replaced, as stored, and null for a new key', () => {
    const store = new KvMemoryStore()
    expect(store.put('a', entry(3, 1))).toBeNull()
    const first = store.peek('a')
    expect(store.put('a', entry(5, 2))).toBe(first)
    expect(store.peek('a')!.value).toEqual(new Uint8Array(5).fill(2))
  })

  const steps: ReadonlyArray<Readonly<{ name: string; run: (store: KvMemoryStore) => void }>> = [
    { name: 'read a, put b, put a', run: (store) => { store.peek('a'); store.put('b', entry(7, 3)); store.put('a', entry(9, 4)) } },
    { name: 'read a, delete a, put a', run: (store) => { store.peek('a'); store.delete('a'); store.put('a', entry(9, 4)) } },
    { name: 'read absent c, put c', run: (store) => { store.peek('c'); store.put('c', entry(2, 4)) } },
    { name: 'read absent c, put c twice', run: (store) => { store.peek('c'); store.put('c', entry(2, 4)); store.put('c', entry(6, 5)) } },
    { name: 'get a (a copy), put a, put a', run: (store) => { store.get('a'); store.put('a', entry(1, 4)); store.put('a', entry(11, 5)) } },
    { name: 'read a, delete b, delete a', run: (store) => { store.peek('a'); store.delete('b'); store.delete('a') } },
  ]

  for (const { name, run } of steps) {
    it(`count bytes and leases from the entry a fresh lookup gives: ${name}`, () => {
      const store = new KvMemoryStore()
      store.put('a', entry(4, 1, '7'))
      store.put('b', entry(4, 2))
      run(store)
      expect(store.usedBytes()).toBe(expectedBytes(store, ['a', 'b', 'c']))
      // The lease follows the key's current entry: attached while a holds it, gone after.
      expect(store.leaseKeys(leaseId('7'))).toEqual(store.peek('a')?.lease === leaseId('7') ? ['a'] : [])
    })
  }

  it('a view taken between a read and the put keeps the entry it saw', () => {
    const store = new KvMemoryStore()
    store.put('a', entry(4, 1))
    const seen = store.peek('a')
    const view = store.view()
    store.put('a', entry(8, 2))
    expect([...view.data()].map(([key, stored]) => [key, stored])).toEqual([['a', seen]])
    expect(store.peek('a')!.value.byteLength).toBe(8)
  })
})
