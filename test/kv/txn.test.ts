/**
 * Goal: txn evaluation as api.md says: every compare target with every operator, missing keys
 * (version, createRevision and writes 0, lease null, a value compare false), every op type and
 * its result, one revision for a branch with writes and none without, earlier ops seen by later
 * ones, the write-once rule per branch, the quota refusing all or nothing, Idempotency-Key
 * replays (reads not kept), and txn records surviving a snapshot.
 * Method: tables applied through KvStateMachine (and applyTxn on its store) from a known state.
 */
import { describe, expect, it } from 'vitest'
import { leaseId, revision, slot } from '../../src/core/index.js'
import { type Command, type TxnCommand, type TxnCompare, type TxnOp, type TxnSpec } from '../../src/kv/command.js'
import { writeTwiceIn } from '../../src/kv/txn-rules.js'
import { entryOverheadBytes } from '../../src/kv/kv-store.js'
import { KvStateMachine } from '../../src/kv/kv-state-machine.js'
import { compareHolds } from '../../src/kv/txn.js'

const b64 = (text: string) => Buffer.from(text).toString('base64')
let proposals = 0
const txn = (spec: Partial<TxnSpec>, extra: Partial<TxnCommand> = {}): TxnCommand =>
  ({ type: 'txn', proposal: `t${(proposals += 1)}`, idempotency: null, compare: [], success: [], failure: [], ...spec, ...extra })
const put = (key: string, value: string): TxnOp => ({ type: 'put', key, value: b64(value), lease: null })
const plainPut = (key: string, value: string): Command => ({ type: 'put', proposal: `p${(proposals += 1)}`, key, value: b64(value), cas: null, idempotency: null })
const applyOne = (sm: KvStateMachine, ...commands: Command[]) => sm.apply([{ slot: slot(sm.appliedIndex() + 1), value: commands }]).map((applied) => applied.result)

/** k written at revisions 1 and 3 (created at 1), other at 2: revision 3. */
function seeded(): KvStateMachine {
  const sm = new KvStateMachine()
  applyOne(sm, plainPut('k', 'b'), plainPut('other', 'x'), plainPut('k', 'm'))
  return sm
}

describe('txn compares', () => {
  const entry = { value: Buffer.from('m'), version: revision(3), createRevision: revision(1), writes: 2, lease: leaseId('10') }
  // [target, compare value, then whether = != < > hold against the entry]
  const table: Array<[TxnCompare['target'], string | number | null, boolean[]]> = [
    ['value', b64('m'), [true, false, false, false]],
    ['value', b64('a'), [false, true, false, true]], // 'm' > 'a'
    ['value', b64('mm'), [false, true, true, false]], // a prefix sorts first
    ['version', 3, [true, false, false, false]],
    ['version', 4, [false, true, true, false]],
    ['createRevision', 0, [false, true, false, true]],
    ['writes', 2, [true, false, false, false]],
    ['writes', 1, [false, true, false, true]],
    ['lease', '10', [true, false, false, false]],
    ['lease', '9', [false, true, false, true]], // compared as int64, not as text
    ['lease', null, [false, true, false, true]],
  ]
  it.each(table)('%s vs %j on a present key', (target, value, expected) => {
    const holds = (['=', '!=', '<', '>'] as const).map((op) => compareHolds(entry, { key: 'k', target, op, value } as TxnCompare))
    expect(holds).toEqual(expected)
  })

  // A missing key: version, createRevision and writes 0, lease null; a value compare always fails.
  const missing: Array<[TxnCompare['target'], string | number | null, boolean[]]> = [
    ['value', b64(''), [false, false, false, false]],
    ['value', b64('x'), [false, false, false, false]],
    ['version', 0, [true, false, false, false]],
    ['createRevision', 1, [false, true, true, false]],
    ['writes', 0, [true, false, false, false]],
    ['lease', null, [true, false, false, false]],
    ['lease', '1', [false, true, true, false]],
  ]
  it.each(missing)('%s vs %j on a missing key', (target, value, expected) => {
    const holds = (['=', '!=', '<', '>'] as const).map((op) => compareHolds(null, { key: 'k', target, op, value } as TxnCompare))
    expect(holds).toEqual(expected)
  })
})

describe('txn ops', () => {
  it('every op type with its result, all at one revision, later ops seeing earlier ones', () => {
    const sm = seeded()
    applyOne(sm, plainPut('dir/a', '1'), plainPut('dir/b', '2'), plainPut('dir2', 'kept'))
    const [result] = applyOne(sm, txn({
      compare: [{ key: 'k', target: 'version', op: '=', value: 3 }],
      success: [put('k', 'new'), put('fresh', 'f'), { type: 'delete', key: 'other' }, { type: 'delete', key: 'never' }, { type: 'deletePrefix', prefix: 'dir/' }, { type: 'get', key: 'k' }, { type: 'get', key: 'nope' }, { type: 'list', prefix: 'dir', limit: 5 }],
    }))
    expect(result).toEqual({
      type: 'txn', succeeded: true, revision: 7, replayed: false,
      results: [
        { type: 'put', revision: 7 }, { type: 'put', revision: 7 }, { type: 'delete', deleted: 1 }, { type: 'delete', deleted: 0 }, { type: 'delete', deleted: 2 },
        { type: 'get', item: { key: 'k', value: new Uint8Array(Buffer.from('new')), version: 7, createRevision: 1, writes: 3, lease: null } },
        { type: 'get', item: null },
        { type: 'list', items: [{ key: 'dir2', value: new Uint8Array(Buffer.from('kept')), version: 6, createRevision: 6, writes: 1, lease: null }], more: false },
      ],
    })
    expect(sm.revision()).toBe(7)
    expect(sm.get('fresh')).toMatchObject({ version: 7, createRevision: 7, writes: 1 })
    expect(sm.get('other')).toBeNull()
  })

  it('runs the failure ops when a compare fails; a branch without writes changes nothing, not even the revision', () => {
    const sm = seeded()
    const [failed] = applyOne(sm, txn({ compare: [{ key: 'k', target: 'version', op: '=', value: 3 }, { key: 'missing', target: 'createRevision', op: '>', value: 0 }], success: [put('k', 'no')], failure: [{ type: 'get', key: 'k' }] }))
    expect(failed).toMatchObject({ type: 'txn', succeeded: false, revision: 3, results: [{ type: 'get', item: { key: 'k', version: 3 } }] })
    expect(sm.revision()).toBe(3)
    const [written] = applyOne(sm, txn({ compare: [{ key: 'missing', target: 'version', op: '=', value: 0 }], success: [{ type: 'delete', key: 'missing' }] }))
    // A delete that removes nothing still writes, as DELETE of a missing key does: one revision.
    expect(written).toMatchObject({ type: 'txn', succeeded: true, revision: 4, results: [{ type: 'delete', deleted: 0 }] })
  })

  it('a list op reads at most its limit and says more', () => {
    const sm = seeded()
    const result = sm.readTxn({ compare: [], success: [{ type: 'list', prefix: '', limit: 1 }], failure: [] })
    expect(result).toMatchObject({ succeeded: true, revision: 3, results: [{ type: 'list', items: [{ key: 'k' }], more: true }] })
  })

  it('readTxn refuses a txn that writes (that one must go through the log)', () => {
    expect(() => seeded().readTxn({ compare: [], success: [], failure: [put('a', 'b')] })).toThrow(/writes/)
  })

  it('over the quota, none of the branch applies', () => {
    const sm = seeded()
    const used = sm.usedBytes()
    const quota = used + 'a'.length + entryOverheadBytes + 1
    const [refused] = applyOne(sm, txn({ success: [put('a', 'x'), put('b', 'y')] }, { quotaBytes: quota }))
    expect(refused).toEqual({ type: 'quota_exceeded' })
    expect(sm.get('a')).toBeNull()
    expect(sm.revision()).toBe(3)
    expect(applyOne(sm, txn({ success: [put('a', 'x')] }, { quotaBytes: quota }))).toMatchObject([{ type: 'txn', revision: 4 }])
  })
})

describe('the write-once rule', () => {
  const cases: Array<[string, TxnOp[], boolean]> = [
    ['two puts of a key', [put('a', '1'), put('a', '2')], false],
    ['a put and a delete of a key', [put('a', '1'), { type: 'delete', key: 'a' }], false],
    ['a put under a deleted prefix', [{ type: 'deletePrefix', prefix: 'a/' }, put('a/b', '1')], false],
    ['a put of a key the prefix covers (no slash)', [put('ab', '1'), { type: 'deletePrefix', prefix: 'a' }], false],
    ['overlapping prefixes', [{ type: 'deletePrefix', prefix: 'a' }, { type: 'deletePrefix', prefix: 'a/b' }], false],
    ['two deletes of a key', [{ type: 'delete', key: 'a' }, { type: 'delete', key: 'a' }], false],
    ['a put and a get of a key', [put('a', '1'), { type: 'get', key: 'a' }, { type: 'list', prefix: 'a', limit: 1 }], true],
    ['a put beside a deleted prefix', [{ type: 'deletePrefix', prefix: 'a/' }, put('a', '1'), put('b/a', '1')], true],
  ]
  it.each(cases)('%s', (_name, ops, allowed) => {
    expect(writeTwiceIn({ compare: [], success: ops, failure: [] }) === null).toBe(allowed)
    expect(writeTwiceIn({ compare: [], success: [], failure: ops }) === null).toBe(allowed)
  })

  it('is per branch: both branches may write the same key', () => {
    expect(writeTwiceIn({ compare: [], success: [put('a', '1')], failure: [put('a', '2')] })).toBeNull()
  })

  it('the state machine refuses (a bug) a txn that breaks it', () => {
    expect(() => applyOne(seeded(), txn({ success: [put('a', '1'), put('a', '2')] }))).toThrow(/twice/)
  })
})

describe('txn retries', () => {
  it('an Idempotency-Key replays the first decision and writes, marks the answer replayed, and keeps no reads', () => {
    const sm = seeded()
    const spec = { compare: [{ key: 'k', target: 'version', op: '=', value: 3 }] as TxnCompare[], success: [put('k', 'once'), { type: 'get', key: 'other' } as TxnOp] }
    const first = applyOne(sm, txn(spec, { idempotency: { key: 'idem', atMs: 1 } }))
    expect(first).toMatchObject([{ type: 'txn', succeeded: true, revision: 4, replayed: false, results: [{ type: 'put' }, { type: 'get', item: { key: 'other' } }] }])
    const retry = applyOne(sm, txn(spec, { idempotency: { key: 'idem', atMs: 2 } }))
    expect(retry).toEqual([{ type: 'txn', succeeded: true, revision: 4, replayed: true, results: [{ type: 'put', revision: 4 }, { type: 'not_kept' }] }])
    expect(sm.revision()).toBe(4)
    expect(applyOne(sm, txn({ ...spec, success: [put('k', 'other')] }, { idempotency: { key: 'idem', atMs: 3 } }))).toEqual([{ type: 'idempotency_key_reused' }])
  })

  it('txn records survive a snapshot: a retry after a restore is still answered from its record', () => {
    const sm = new KvStateMachine({ snapshotChunkBytesMax: 256 })
    const spec = { success: [put('a', '1'), { type: 'deletePrefix', prefix: 'z' } as TxnOp, { type: 'get', key: 'a' } as TxnOp] }
    applyOne(sm, txn(spec, { request: { id: 'r1', atMs: 1 } }), txn({ compare: [{ key: 'a', target: 'writes', op: '>', value: 5 }] as TxnCompare[], failure: [put('b', '2')] }, { idempotency: { key: 'i', atMs: 1 } }))
    const restored = new KvStateMachine({ snapshotChunkBytesMax: 256 })
    restored.restore(sm.snapshot().chunks())
    expect(applyOne(restored, txn(spec, { request: { id: 'r1', atMs: 2 } }))).toEqual([
      { type: 'txn', succeeded: true, revision: 1, replayed: true, results: [{ type: 'put', revision: 1 }, { type: 'delete', deleted: 0 }, { type: 'not_kept' }] },
    ])
    expect(applyOne(restored, txn({ compare: [{ key: 'a', target: 'writes', op: '>', value: 5 }] as TxnCompare[], failure: [put('b', '2')] }, { idempotency: { key: 'i', atMs: 2 } }))).toEqual([
      { type: 'txn', succeeded: false, revision: 2, replayed: true, results: [{ type: 'put', revision: 2 }] },
    ])
    expect(restored.revision()).toBe(2)
  })
})

describe('the store page walk of a prefix delete', () => {
  it('deletes more keys than one page holds', () => {
    const sm = new KvStateMachine()
    applyOne(sm, ...Array.from({ length: 600 }, (_, index) => plainPut(`p/${index}`, 'v')), plainPut('q', 'stays'))
    expect(applyOne(sm, txn({ success: [{ type: 'deletePrefix', prefix: 'p/' }] }))).toMatchObject([{ type: 'txn', revision: 602, results: [{ type: 'delete', deleted: 600 }] }])
    expect(sm.keyCount).toBe(1)
  })
})
