/**
 * Goal: a range read (scan, count) returns exactly the keys of its range, in UTF-8 byte order,
 * cut where its bounds say (keys, bytes; the first key always fits) and saying `more` exactly
 * when keys were left out. Method: seeded random stores over keys that UTF-16 order gets wrong,
 * compared with a naive filter sorted by Buffer.compare, for random prefixes, intervals and
 * open-ended ranges. A failure names its seed.
 */
import { describe, expect, it } from 'vitest'
import { randomBelow, revision, seededRandom, type Random } from '../../src/core/index.js'
import type { KeyRange } from '../../src/kv/key-range.js'
import { KvMemoryStore } from '../../src/kv/kv-memory-store.js'

const alphabet = ['a', 'b', '/', '\u00e9', '\u{1F600}', '\uE000', '\uFFFF', 'z']
const seeds = [1, 2, 3, 4, 5, 6]

function randomKey(random: Random, lengthMax = 4): string {
  const length = 1 + randomBelow(random, lengthMax)
  return Array.from({ length }, () => alphabet[randomBelow(random, alphabet.length)]).join('')
}

function entry(size: number, at: number) {
  return { value: new Uint8Array(size), version: revision(at), createRevision: revision(at), writes: 1, lease: null }
}

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

function naive(keys: readonly string[], range: KeyRange): string[] {
  const inside = (key: string) => range.type === 'prefix'
    ? key.startsWith(range.prefix)
    : byBytes(key, range.start) >= 0 && (range.end === null || byBytes(key, range.end) < 0)
  return keys.filter(inside).sort(byBytes)
}

function randomRange(random: Random): KeyRange {
  switch (randomBelow(random, 3)) {
    case 0:
      return { type: 'prefix', prefix: randomKey(random, 2) }
    case 1:
      return { type: 'interval', start: randomKey(random, 2), end: randomKey(random, 3) }
    default:
      return { type: 'interval', start: randomKey(random, 2), end: null }
  }
}

describe('KvMemoryStore scan and count', () => {
  it.each(seeds)('seed %i: the range, in byte order, cut by its bounds', (seed) => {
    const random = seededRandom(seed)
    const store = new KvMemoryStore()
    const keys = new Map<string, number>()
    for (let index = 0; index < 200; index += 1) {
      const key = randomKey(random)
      const size = randomBelow(random, 20)
      store.put(key, entry(size, index + 1))
      keys.set(key, size)
    }
    for (let trial = 0; trial < 200; trial += 1) {
      const range = randomRange(random)
      const expected = naive([...keys.keys()], range)
      expect(store.count(range), `seed ${seed} ${JSON.stringify(range)}`).toBe(expected.length)
      const limit = 1 + randomBelow(random, 30)
      const bytesMax = randomBelow(random, 120)
      const keysOnly = randomBelow(random, 2) === 0
      const scanned = store.scan(range, { limit, bytesMax, keysOnly })
      // The naive cut: keys while under both bounds, the first always.
      const cut: string[] = []
      let bytes = 0
      for (const key of expected) {
        const itemBytes = Buffer.byteLength(key) + (keysOnly ? 0 : keys.get(key)!)
        if (cut.length === limit || (cut.length > 0 && bytes + itemBytes > bytesMax)) break
        bytes += itemBytes
        cut.push(key)
      }
      expect(scanned.items.map((item) => item.key), `seed ${seed} ${JSON.stringify(range)}`).toEqual(cut)
      expect(scanned.more).toBe(cut.length < expected.length)
      for (const item of scanned.items) expect(item.value.byteLength).toBe(keysOnly ? 0 : keys.get(item.key))
    }
  })

  it('an interval whose end is not after its start holds nothing', () => {
    const store = new KvMemoryStore()
    store.put('b', entry(1, 1))
    expect(store.scan({ type: 'interval', start: 'b', end: 'b' }, { limit: 10, bytesMax: 100, keysOnly: false }).items).toEqual([])
    expect(store.count({ type: 'interval', start: 'c', end: 'a' })).toBe(0)
  })
})
