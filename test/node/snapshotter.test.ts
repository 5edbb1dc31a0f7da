/**
 * Goal: the snapshotter writes what Ready's `take` asks for, once the turn is synced, and never
 * loses a take: one that comes while a write is under way waits for it and then writes the newer
 * state; a take of a state no newer than the last snapshot (or a peer's, coveredBy) writes
 * nothing; a failed write is reported and the next take writes again.
 * Method: the real KV state machine and the memory snapshot store; syncs released by hand.
 */
import { describe, expect, it } from 'vitest'
import { slot, slotZero, type ChosenEntry } from '../../src/core/index.js'
import { KvStateMachine } from '../../src/kv/kv-state-machine.js'
import { Snapshotter, type SnapshotWritten } from '../../src/node/snapshotter.js'
import { MemorySnapshotStore } from '../../src/storage/memory-snapshot-store.js'
import type { SnapshotStore } from '../../src/storage/snapshot-store.js'
import type { WriteCommand } from '../../src/kv/command.js'

const entry = (at: number): ChosenEntry<WriteCommand> => ({ slot: slot(at), value: [{ type: 'put', proposal: `p${at}`, key: `k${at % 3}`, value: 'dg==', cas: null, idempotency: null }] })

function setup(store: SnapshotStore = new MemorySnapshotStore()) {
  const stateMachine = new KvStateMachine()
  const syncs: Array<() => void> = []
  const written: SnapshotWritten[] = []
  const failed: unknown[] = []
  const snapshotter = new Snapshotter({
    stateMachine, store, retain: 2, whenSynced: (release) => syncs.push(release), nowMs: () => 0,
    onWritten: (done) => written.push(done), onFailed: (error) => failed.push(error),
  }, slotZero)
  const applyThrough = (last: number) => {
    for (let at = stateMachine.appliedIndex() + 1; at <= last; at += 1) stateMachine.apply([entry(at)])
  }
  /** Runs the pending setImmediate, the sync, and the chunk turns and commit of one write. */
  const settle = async () => {
    for (let round = 0; round < 20; round += 1) {
      await new Promise((resolve) => setImmediate(resolve))
      for (const release of syncs.splice(0)) release()
    }
  }
  return { stateMachine, store, snapshotter, written, failed, applyThrough, settle }
}

describe('Snapshotter', () => {
  it('writes a take once synced; a take during a write waits for it and then writes the newer state', async () => {
    const { snapshotter, written, applyThrough, settle, store } = setup()
    applyThrough(3)
    snapshotter.take()
    applyThrough(6)
    snapshotter.take() // the first is not written yet
    expect(snapshotter.writing).toBe(true)
    await settle()
    expect(written.map((done) => done.meta.index)).toEqual([3, 6])
    expect(store.list().map((meta) => meta.index)).toEqual([6, 3])
    expect(snapshotter.writing).toBe(false)
  })

  it('writes nothing for a state no newer than the newest snapshot, or than a peer snapshot it holds', async () => {
    const { snapshotter, written, applyThrough, settle } = setup()
    applyThrough(4)
    snapshotter.take()
    await settle()
    snapshotter.take()
    await settle()
    snapshotter.coveredBy(slot(9))
    applyThrough(8)
    snapshotter.take()
    await settle()
    expect(written.map((done) => done.meta.index)).toEqual([4])
  })

  it('reports a failed write, and the next take writes again', async () => {
    const memory = new MemorySnapshotStore()
    let failNext = true
    const flaky: SnapshotStore = {
      create: (index, revision) => {
        if (failNext) {
          failNext = false
          throw new Error('disk full')
        }
        return memory.create(index, revision)
      },
      latest: () => memory.latest(),
      list: () => memory.list(),
      indexes: () => memory.indexes(),
      read: (snapshot) => memory.read(snapshot),
      prune: (keep) => memory.prune(keep),
      setAside: (index) => memory.setAside(index),
    }
    const { snapshotter, written, failed, applyThrough, settle } = setup(flaky)
    applyThrough(2)
    snapshotter.take()
    await settle()
    expect(failed).toHaveLength(1)
    expect(written).toEqual([])
    applyThrough(5)
    snapshotter.take()
    await settle()
    expect(written.map((done) => done.meta.index)).toEqual([5])
  })
})
