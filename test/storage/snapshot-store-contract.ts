/**
 * Goal: one SnapshotStore contract, run by every implementation: empty at first; a committed
 * snapshot reads back chunk for chunk, with its index, revision, size and checksum; an aborted
 * or unfinished one is never visible and leaves the newest as it was; list is newest first;
 * prune keeps the newest K; a snapshot must be newer than the newest.
 * Method: memory-snapshot-store.test.ts and file-snapshot-store.test.ts call it; `reopen` gives
 * the store as a restarted process sees it (the same object for memory).
 */
import { describe, expect, it } from 'vitest'
import { revision, slot } from '../../src/core/index.js'
import type { SnapshotStore } from '../../src/storage/snapshot-store.js'

const chunk = (text: string): Uint8Array => new Uint8Array(Buffer.from(text))
const texts = (chunks: Iterable<Uint8Array>): string[] => [...chunks].map((bytes) => Buffer.from(bytes).toString())

export function runSnapshotStoreContract(name: string, open: () => { store: SnapshotStore; reopen: () => SnapshotStore }): void {
  describe(`${name}: SnapshotStore contract`, () => {
    async function write(store: SnapshotStore, index: number, parts: string[]) {
      const sink = store.create(slot(index), revision(index * 10))
      for (const part of parts) sink.write(chunk(part))
      return sink.commit()
    }

    it('starts empty', () => {
      const { store } = open()
      expect(store.latest()).toBeNull()
      expect(store.list()).toEqual([])
    })

    it('reads back a committed snapshot chunk for chunk, after a reopen', async () => {
      const { store, reopen } = open()
      const meta = await write(store, 5, ['header', 'data one', 'x'.repeat(10_000), 'end'])
      expect(meta).toMatchObject({ index: 5, revision: 50 })
      expect(meta.checksum).toMatch(/^[0-9a-f]{8}$/)
      expect(meta.sizeBytes).toBeGreaterThanOrEqual(6 + 8 + 10_000 + 3)
      const again = reopen()
      expect(again.latest()).toEqual(meta)
      expect(texts(again.read(meta))).toEqual(['header', 'data one', 'x'.repeat(10_000), 'end'])
    })

    it('shows nothing of an unfinished or aborted snapshot; the newest stays the newest', async () => {
      const { store, reopen } = open()
      const first = await write(store, 3, ['a'])
      const unfinished = store.create(slot(4), revision(40))
      unfinished.write(chunk('b'))
      expect(store.latest()).toEqual(first)
      const aborted = store.create(slot(5), revision(50))
      aborted.write(chunk('c'))
      aborted.abort()
      expect(store.latest()).toEqual(first)
      expect(reopen().list()).toEqual([first])
      expect(texts(reopen().read(first))).toEqual(['a'])
    })

    it('lists newest first and prunes all but the newest K', async () => {
      const { store, reopen } = open()
      for (const index of [1, 2, 3, 4]) await write(store, index, [`s${index}`])
      expect(store.list().map((meta) => meta.index)).toEqual([4, 3, 2, 1])
      expect(store.indexes()).toEqual([4, 3, 2, 1])
      store.prune(2)
      expect(reopen().list().map((meta) => meta.index)).toEqual([4, 3])
      expect(reopen().indexes()).toEqual([4, 3])
      expect(texts(reopen().read(reopen().latest()!))).toEqual(['s4'])
    })

    it('sets a snapshot aside: no longer listed or read, and the one before it is the newest again', async () => {
      const { store, reopen } = open()
      for (const index of [1, 2, 3]) await write(store, index, [`s${index}`])
      store.setAside(slot(3))
      expect(reopen().indexes()).toEqual([2, 1])
      expect(reopen().latest()?.index).toBe(2)
      expect(texts(reopen().read(reopen().latest()!))).toEqual(['s2'])
      await write(reopen(), 3, ['again'])
      expect(texts(reopen().read({ index: slot(3) }))).toEqual(['again'])
    })

    it('refuses a snapshot that is not newer than the newest', async () => {
      const { store } = open()
      await write(store, 7, ['a'])
      expect(() => store.create(slot(7), revision(1))).toThrow(/not newer/)
      expect(() => store.create(slot(6), revision(1))).toThrow(/not newer/)
    })

    it('gives equal checksums to equal contents and different ones otherwise', async () => {
      const one = await write(open().store, 1, ['same', 'bytes'])
      const two = await write(open().store, 1, ['same', 'bytes'])
      const three = await write(open().store, 1, ['same', 'bytez'])
      expect(one.checksum).toBe(two.checksum)
      expect(three.checksum).not.toBe(one.checksum)
    })
  })
}
