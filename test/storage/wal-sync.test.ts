/**
 * Goal: group commit off the event loop keeps its promise. A waiter is released only after an
 * fdatasync that started after its commit; one sync releases every waiter that was there, in
 * order; waiters that arrive during a sync get the next one; with nothing unsynced (or fsync
 * off) release is immediate; the WAL stays one file (one inode) across checkpoints, so the
 * descriptor being synced stays the right one.
 * Method: openNodeStorage on real SQLite files in temp dirs.
 */
import { mkdtempSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { nodeId, slot } from '../../src/core/index.js'
import { databaseFileName, openNodeStorage, type NodeStorage } from '../../src/storage/data-dir.js'
import type { WriteCommand } from '../../src/kv/command.js'

function open(fsync: 'full' | 'off'): { storage: NodeStorage<WriteCommand>; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'paxos-kv-walsync-'))
  return { storage: openNodeStorage<WriteCommand>({ dir, clusterId: 'alpha', nodeId: nodeId(1), fsync }), dir }
}

function commit(storage: NodeStorage<WriteCommand>, at: number): void {
  const ballot = { round: 1, node: nodeId(1) }
  storage.atomically(() => storage.acceptorStorage.persist({ promised: ballot, entries: [{ slot: slot(at), ballot, value: [{ type: 'noop' }], chosen: false }] }))
}

const drained = (storage: NodeStorage<WriteCommand>) => new Promise<void>((resolve) => storage.whenSynced(resolve))

describe('WAL group commit', () => {
  it('releases after a sync, in order, one sync for everyone waiting, the latecomers on the next', async () => {
    const { storage } = open('full')
    try {
      const released: string[] = []
      commit(storage, 1)
      storage.whenSynced(() => released.push('a'))
      commit(storage, 2)
      storage.whenSynced(() => released.push('b'))
      expect(released).toEqual([]) // nothing before the disk answers
      expect(storage.syncs()).toBe(1) // b waits for the sync after the one in flight
      await drained(storage)
      expect(released).toEqual(['a', 'b'])
      expect(storage.syncs()).toBe(2)
      storage.whenSynced(() => released.push('c')) // nothing committed since: at once
      expect(released).toEqual(['a', 'b', 'c'])
      expect(storage.syncs()).toBe(2)
    } finally {
      storage.close()
    }
  })

  it('many turns committed before the sync starts share one fdatasync', async () => {
    const { storage } = open('full')
    try {
      for (let at = 1; at <= 20; at += 1) commit(storage, at)
      const released: number[] = []
      for (let waiter = 0; waiter < 20; waiter += 1) storage.whenSynced(() => released.push(waiter))
      await drained(storage)
      expect(released).toEqual(Array.from({ length: 20 }, (_, index) => index))
      expect(storage.syncs()).toBe(1)
    } finally {
      storage.close()
    }
  })

  it('with fsync off, release is immediate and nothing is synced', () => {
    const { storage } = open('off')
    try {
      commit(storage, 1)
      let released = false
      storage.whenSynced(() => (released = true))
      expect(released).toBe(true)
      expect(storage.syncs()).toBe(0)
    } finally {
      storage.close()
    }
  })

  it('keeps one WAL file across checkpoints, and what was released reopens', async () => {
    const { storage, dir } = open('full')
    const walPath = join(dir, `${databaseFileName}-wal`)
    commit(storage, 1)
    await drained(storage)
    const inode = statSync(walPath).ino
    // Enough pages to pass the auto-checkpoint (1000 pages) several times.
    const big = 'x'.repeat(4000)
    for (let at = 2; at <= 3000; at += 1) {
      storage.atomically(() => storage.acceptorStorage.persist({ promised: null, entries: [{ slot: slot(at), ballot: { round: 1, node: nodeId(1) }, value: [{ type: 'put', proposal: `p${at}`, key: 'k', value: big, cas: null, idempotency: null }], chosen: false }] }))
    }
    await drained(storage)
    expect(statSync(walPath).ino).toBe(inode)
    storage.close()
    const reopened = openNodeStorage<WriteCommand>({ dir, clusterId: 'alpha', nodeId: nodeId(1), fsync: 'full' })
    try {
      expect(reopened.acceptorStorage.load().entries).toHaveLength(3000)
    } finally {
      reopened.close()
    }
  })
})
