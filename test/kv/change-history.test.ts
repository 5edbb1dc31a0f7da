/**
 * Goal: the change history watch serves from: each applied change with its metadata and
 * the entry it replaced (prev), grouped by revision (a txn's or a prefix delete's changes in one), none for a
 * write that changed no key; bounded by revisions and by bytes, oldest first, the newest always
 * kept; a read from before the oldest revision served is `compacted` with that revision; a
 * restore starts it over after the snapshot's revision.
 * Method: tables on ChangeHistory, and writes applied through KvStateMachine.
 */
import { describe, expect, it } from 'vitest'
import { revision, slot } from '../../src/core/index.js'
import { type Command, type TxnOp } from '../../src/kv/command.js'
import { ChangeHistory, type RevisionChanges } from '../../src/kv/change-history.js'
import { KvStateMachine } from '../../src/kv/kv-state-machine.js'

const b64 = (text: string) => Buffer.from(text).toString('base64')
let proposals = 0
const put = (key: string, value: string): Command => ({ type: 'put', proposal: `p${(proposals += 1)}`, key, value: b64(value), cas: null, idempotency: null })
const del = (key: string): Command => ({ type: 'delete', proposal: `p${(proposals += 1)}`, key, cas: null, idempotency: null })
const txn = (success: TxnOp[]): Command => ({ type: 'txn', proposal: `p${(proposals += 1)}`, idempotency: null, compare: [], success, failure: [] })
const applyOne = (sm: KvStateMachine, ...commands: Command[]) => sm.apply([{ slot: slot(sm.appliedIndex() + 1), value: commands }])

const change = (at: number, key: string, bytes = 0): RevisionChanges =>
  ({ revision: revision(at), changes: [{ type: 'put', key, value: new Uint8Array(bytes), createRevision: revision(at), writes: 1, lease: null, prev: null }] })
const revisionsOf = (history: ChangeHistory, from: number) => {
  const read = history.read(revision(from), 100)
  return read.type === 'changes' ? read.entries.map((entry) => entry.revision) : read
}

describe('ChangeHistory', () => {
  it('serves from the start until a bound drops the oldest; reads before it are compacted', () => {
    const history = new ChangeHistory({ revisionsMax: 3, bytesMax: 1 << 20 })
    expect(history.servedFrom).toBe(1)
    for (const at of [1, 2, 4, 5]) history.append(change(at, 'k'))
    expect(revisionsOf(history, 1)).toEqual({ type: 'compacted', compactRevision: 2 })
    expect(revisionsOf(history, 2)).toEqual([2, 4, 5])
    expect(revisionsOf(history, 3)).toEqual([4, 5]) // revision 3 changed no key
    expect(revisionsOf(history, 6)).toEqual([])
    history.append(change(9, 'k'))
    expect(history.servedFrom).toBe(3)
  })

  it('bounds bytes too, always keeping the newest revision', () => {
    const history = new ChangeHistory({ revisionsMax: 100, bytesMax: 1000 })
    history.append(change(1, 'a', 400))
    history.append(change(2, 'b', 400))
    expect(history.revisions).toBe(2)
    history.append(change(3, 'c', 5000))
    expect(revisionsOf(history, 3)).toEqual([3])
    expect(history.servedFrom).toBe(3)
  })

  it('pages a read, and says more', () => {
    const history = new ChangeHistory({ revisionsMax: 100, bytesMax: 1 << 20 })
    for (let at = 1; at <= 5; at += 1) history.append(change(at, 'k'))
    expect(history.read(revision(2), 2)).toMatchObject({ type: 'changes', more: true, entries: [{ revision: 2 }, { revision: 3 }] })
    expect(history.read(revision(4), 2)).toMatchObject({ type: 'changes', more: false })
  })

  it('refuses a revision out of order (a bug)', () => {
    const history = new ChangeHistory({ revisionsMax: 10, bytesMax: 1 << 20 })
    history.append(change(2, 'k'))
    expect(() => history.append(change(2, 'k'))).toThrow(/out of order/)
  })

  it('reclaims the front of its queue: memory follows the bound, not the count appended', () => {
    const history = new ChangeHistory({ revisionsMax: 10, bytesMax: 1 << 20 })
    for (let at = 1; at <= 5000; at += 1) history.append(change(at, 'k'))
    expect(history.revisions).toBe(10)
    expect(revisionsOf(history, 4991)).toEqual([4991, 4992, 4993, 4994, 4995, 4996, 4997, 4998, 4999, 5000])
  })
})

describe('compact, the range floor, and the keys changed after a revision', () => {
  const entry = (at: number, key: string, type: 'put' | 'delete', prevAt: number | null): RevisionChanges => ({
    revision: revision(at),
    changes: [{ type, key, value: type === 'put' ? new Uint8Array([at]) : null, createRevision: revision(type === 'put' ? at : 0), writes: type === 'put' ? 1 : 0, lease: null,
      prev: prevAt === null ? null : { value: new Uint8Array([prevAt]), version: revision(prevAt), createRevision: revision(prevAt), writes: 1, lease: null } }],
  })

  it('serves reads of the state from the revision before the oldest change held; watches from the oldest change', () => {
    const history = new ChangeHistory({ revisionsMax: 2, bytesMax: 1 << 20 })
    for (const at of [1, 2, 3]) history.append(entry(at, 'k', 'put', at === 1 ? null : at - 1))
    expect(history.servedFrom).toBe(2)
    expect(history.rangeFloor).toBe(1) // undoing changes 2 and 3 gives the state at 1
  })

  it('a compact at C drops what is older; watches from C and reads at C stay served, not before it', () => {
    const history = new ChangeHistory({ revisionsMax: 100, bytesMax: 1 << 20 })
    for (const at of [1, 2, 3, 4]) history.append(entry(at, `k${at}`, 'put', null))
    history.compact(revision(3))
    expect(history.servedFrom).toBe(3)
    expect(history.rangeFloor).toBe(3)
    expect(revisionsOf(history, 3)).toEqual([3, 4])
    expect(revisionsOf(history, 2)).toEqual({ type: 'compacted', compactRevision: 3 })
    history.compact(revision(2)) // below what is already dropped: nothing changes
    expect([history.servedFrom, history.rangeFloor, history.revisions]).toEqual([3, 3, 2])
    history.compact(revision(5)) // past every change held (the current revision, with nothing after 4)
    expect([history.servedFrom, history.rangeFloor, history.revisions]).toEqual([5, 5, 0])
    history.reset(revision(9))
    expect([history.servedFrom, history.rangeFloor]).toEqual([10, 9])
  })

  it('changedAfter: each selected key changed after the revision, as it was then and whether it exists now', () => {
    const history = new ChangeHistory({ revisionsMax: 100, bytesMax: 1 << 20 })
    history.append(entry(1, 'a', 'put', null))
    history.append(entry(2, 'a', 'put', 1))
    history.append(entry(3, 'b', 'put', null))
    history.append(entry(4, 'a', 'delete', 2))
    history.append(entry(5, 'x', 'put', null))
    const after1 = history.changedAfter(revision(1), (key) => key !== 'x')
    expect([...after1].map(([key, then]) => [key, then.then?.version ?? null, then.existsNow])).toEqual([['a', 1, false], ['b', null, true]])
    expect([...history.changedAfter(revision(3), () => true)].map(([key, then]) => [key, then.then?.version ?? null, then.existsNow])).toEqual([['a', 2, false], ['x', null, true]])
    expect(history.changedAfter(revision(5), () => true).size).toBe(0)
    history.compact(revision(3))
    expect(() => history.changedAfter(revision(2), () => true)).toThrow(/below the history's floor/)
  })
})

describe('the state machine\'s history', () => {
  it('records puts and deletes with metadata and the entry each replaced; one revision per txn or prefix delete; nothing for a delete of a missing key', () => {
    const sm = new KvStateMachine()
    applyOne(sm, put('a', '1'), put('a', '2'), del('missing'), txn([{ type: 'put', key: 'b', value: b64('x'), lease: null }, { type: 'delete', key: 'a' }]))
    applyOne(sm, put('p/1', 'y'), put('p/2', 'z'), txn([{ type: 'deletePrefix', prefix: 'p/' }]))
    const read = sm.history.read(revision(1), 100)
    expect(read.type === 'changes' && read.entries.map((entry) => [entry.revision, entry.changes.map((c) => `${c.type} ${c.key} prev=${c.prev?.version ?? 0} cr=${c.createRevision} w=${c.writes}`)])).toEqual([
      [1, ['put a prev=0 cr=1 w=1']],
      [2, ['put a prev=1 cr=1 w=2']],
      [4, ['put b prev=0 cr=4 w=1', 'delete a prev=2 cr=0 w=0']],
      [5, ['put p/1 prev=0 cr=5 w=1']],
      [6, ['put p/2 prev=0 cr=6 w=1']],
      [7, ['delete p/1 prev=5 cr=0 w=0', 'delete p/2 prev=6 cr=0 w=0']],
    ])
    expect(read.type === 'changes' && Buffer.from(read.entries[0]!.changes[0]!.value!).toString()).toBe('1')
    // The replaced entry whole: etcd's prev_kv, and what a read at an earlier revision puts back.
    const deleteOfA = read.type === 'changes' ? read.entries[2]!.changes[1]! : null
    expect(deleteOfA?.prev).toEqual({ value: new Uint8Array(Buffer.from('2')), version: 2, createRevision: 1, writes: 2, lease: null })
  })

  it('starts over after a restore: served from the snapshot\'s revision on, and the replay fills it', () => {
    const sm = new KvStateMachine()
    applyOne(sm, put('a', '1'), put('b', '2'))
    const restored = new KvStateMachine()
    restored.restore(sm.snapshot().chunks())
    expect(restored.history.servedFrom).toBe(3)
    expect(restored.history.read(revision(1), 10)).toEqual({ type: 'compacted', compactRevision: 3 })
    applyOne(restored, put('c', '3'))
    expect(restored.history.read(revision(3), 10)).toMatchObject({ type: 'changes', entries: [{ revision: 3, changes: [{ key: 'c' }] }] })
  })
})
