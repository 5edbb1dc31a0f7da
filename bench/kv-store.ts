/**
 * The in-memory store's candidates, measured outside the node: the B+ tree (sorted-btree, O(1)
 * copy-on-write clone) against a plain Map (fast point operations, but an ordered listing needs
 * a sort, and a point-in-time snapshot needs a full copy). 1M keys of ~16 bytes, values of 100.
 * Run: npx tsx bench/kv-store.ts [keys]
 */
import sortedBtree from 'sorted-btree'
import { compareKeys } from '../src/kv/key-order.js'

type BTreeClass = typeof sortedBtree.default
const BTree: BTreeClass = typeof sortedBtree === 'function' ? (sortedBtree as unknown as BTreeClass) : sortedBtree.default

const count = Number(process.argv[2] ?? 1_000_000)
const keys = Array.from({ length: count }, (_, index) => `key/${(index * 2654435761) % 4294967296}`)
const value = new Uint8Array(100)

function time(label: string, work: () => unknown): void {
  const started = performance.now()
  work()
  const ms = performance.now() - started
  console.log(`${label.padEnd(44)} ${ms.toFixed(1).padStart(9)} ms`)
}

const tree = new BTree<string, Uint8Array>(undefined, compareKeys)
const map = new Map<string, Uint8Array>()
time('B+ tree: insert (random order)', () => { for (const key of keys) tree.set(key, new Uint8Array(value)) })
time('Map: insert', () => { for (const key of keys) map.set(key, new Uint8Array(value)) })
time('B+ tree: 1M gets', () => { for (const key of keys) tree.get(key) })
time('Map: 1M gets', () => { for (const key of keys) map.get(key) })
time('B+ tree: 1M overwrites', () => { for (const key of keys) tree.set(key, value) })
time('Map: 1M overwrites', () => { for (const key of keys) map.set(key, value) })
time('B+ tree: 1,000 prefix listings of 100', () => {
  for (let index = 0; index < 1000; index += 1) {
    let listed = 0
    for (const [key] of tree.entries(`key/${index}`)) if (!key.startsWith('key/') || ++listed === 100) break
  }
})
time('Map: 1 prefix listing (filter + sort)', () => [...map.keys()].filter((key) => key.startsWith('key/1')).sort(compareKeys).slice(0, 100))
time('B+ tree: clone (snapshot view)', () => tree.clone())
time('Map: copy (snapshot view)', () => new Map(map))
const clone = tree.clone()
time('B+ tree: 100k writes after a clone (COW)', () => { for (const key of keys.slice(0, 100_000)) tree.set(key, value) })
time('B+ tree: iterate the clone', () => { let n = 0; for (const entry of clone.entries()) n += entry.length })
console.log(`rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB (both structures, ${count} keys each)`)
