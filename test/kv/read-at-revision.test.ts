/**
 * Goal: a read at a past revision (etcd's Range with `revision`) answers exactly the state the
 * store had then: every key with its value and metadata, a range's keys in key order cut by
 * its bounds with `more` when cut, and its whole count; from the history's floor on, through
 * puts, deletes, txns, prefix deletes and leases revoked with their keys; a compact raises the
 * floor. Method: seeded random writes applied through KvStateMachine, the whole state copied
 * after every revision as the reference; then reads at random revisions compared with it. A
 * failure names its seed.
 */
import { describe, expect, it } from 'vitest'
import { randomBelow, revision, seededRandom, slot, type Random } from '../../src/core/index.js'
import type { Command } from '../../src/kv/command.js'
import { compareKeys } from '../../src/kv/key-order.js'
import { inKeyRange, type KeyRange } from '../../src/kv/key-range.js'
import { KvStateMachine } from '../../src/kv/kv-state-machine.js'
import { getAt, readAtProblem, scanAt } from '../../src/kv/read-at-revision.js'
import type { KvItem } from '../../src/kv/state-machine.js'

const keys = ['a', 'a/1', 'a/2', 'a/\u00e9', 'b', 'b/x', 'c']
const b64 = (text: string) => Buffer.from(text).toString('base64')

function randomCommand(random: Random, proposal: string, leases: string[]): Command {
  const key = keys[randomBelow(random, keys.length)]!
  const base = { proposal, idempotency: null }
  switch (randomBelow(random, 7)) {
    case 0:
      return { type: 'delete', key, cas: null, ...base }
    case 1:
      return { type: 'txn', compare: [], success: [{ type: 'put', key, value: b64(`t${proposal}`), lease: null }, { type: 'delete', key: key === 'c' ? 'b' : 'c' }], failure: [], ...base }
    case 2:
      return { type: 'txn', compare: [], success: [{ type: 'deletePrefix', prefix: key.slice(0, 1) }], failure: [], ...base }
    case 3: {
      const id = String(leases.length + 1)
      leases.push(id)
      return { type: 'lease-grant', id, ttlSeconds: 10, ...base }
    }
    case 4:
      return leases.length === 0 ? { type: 'noop' } : { type: 'put', key, value: b64(`l${proposal}`), cas: null, lease: leases[randomBelow(random, leases.length)]!, ...base }
    case 5:
      return leases.length === 0 ? { type: 'noop' } : { type: 'lease-revoke', id: leases[randomBelow(random, leases.length)]!, ...base }
    default:
      return { type: 'put', key, value: b64(`v${proposal}`), cas: null, ...base }
  }
}

const ranges: readonly KeyRange[] = [
  { type: 'prefix', prefix: 'a' },
  { type: 'prefix', prefix: 'a/' },
  { type: 'prefix', prefix: '' },
  { type: 'interval', start: 'a/2', end: 'b/x' },
  { type: 'interval', start: 'b', end: null },
]

function snapshotOf(sm: KvStateMachine): Map<string, KvItem> {
  return new Map(sm.range('', 1000).items.map((item) => [item.key, item]))
}

describe('reads at a past revision', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: every key and range as it was, from the history\'s floor on', (seed) => {
    const random = seededRandom(seed)
    const sm = new KvStateMachine({ history: { revisionsMax: 30, bytesMax: 1 << 20 } })
    const states = new Map<number, Map<string, KvItem>>([[0, new Map()]])
    const leases: string[] = []
    for (let index = 0; index < 120; index += 1) {
      sm.apply([{ slot: slot(sm.appliedIndex() + 1), value: [randomCommand(random, `p${index}`, leases)] }])
      states.set(sm.revision(), snapshotOf(sm))
    }
    const current = sm.revision()
    const floor = sm.history.rangeFloor
    expect(floor, `seed ${seed}: the bound dropped the oldest`).toBeGreaterThan(0)
    for (let at: number = floor; at < current; at += 1) {
      // A revision with no change of its own (a lease grant, a delete of nothing) is the one before it.
      let reference = states.get(at)
      for (let back = at - 1; reference === undefined; back -= 1) reference = states.get(back)
      const changed = sm.history.changedAfter(revision(at), () => true)
      for (const key of keys) expect(getAt(sm, changed, key), `seed ${seed} at ${at}: ${key}`).toEqual(reference.get(key) ?? null)
      for (const range of ranges) {
        const expected = [...reference.values()].filter((item) => inKeyRange(range, item.key)).sort((x, y) => compareKeys(x.key, y.key))
        const whole = scanAt(sm, changed, range, { limit: 100, bytesMax: 1 << 20, keysOnly: false })
        expect(whole, `seed ${seed} at ${at}: ${JSON.stringify(range)}`).toEqual({ items: expected, more: false, count: expected.length })
        const two = scanAt(sm, changed, range, { limit: 2, bytesMax: 1 << 20, keysOnly: true })
        expect(two.items.map((item) => item.key)).toEqual(expected.slice(0, 2).map((item) => item.key))
        expect(two.items.every((item) => item.value.byteLength === 0)).toBe(true)
        expect([two.more, two.count]).toEqual([expected.length > 2, expected.length])
      }
    }
    expect(readAtProblem(revision(current + 1), current, floor)).toBe('future')
    expect(readAtProblem(revision(floor - 1), current, floor)).toBe(floor > 1 ? 'compacted' : null)
    expect(readAtProblem(revision(floor), current, floor)).toBeNull()
  })

  it('a compact through the log raises the floor: reads from it on are served, before it compacted', () => {
    const sm = new KvStateMachine()
    const put = (key: string, proposal: string): Command => ({ type: 'put', key, value: b64(proposal), cas: null, proposal, idempotency: null })
    for (const [index, key] of ['a', 'b', 'a', 'c'].entries()) sm.apply([{ slot: slot(index + 1), value: [put(key, `p${index}`)] }])
    expect(sm.history.rangeFloor).toBe(0)
    const [compacted] = sm.apply([{ slot: slot(5), value: [{ type: 'compact', revision: 3, proposal: 'c', idempotency: null }] }])
    expect(compacted!.result).toEqual({ type: 'history_compacted', revision: 3 })
    expect(sm.revision()).toBe(4) // a compact writes no key
    expect([sm.history.rangeFloor, sm.history.servedFrom]).toEqual([3, 3])
    expect(readAtProblem(revision(2), revision(4), sm.history.rangeFloor)).toBe('compacted')
    const at3 = sm.history.changedAfter(revision(3), () => true)
    expect(Buffer.from(getAt(sm, at3, 'a')!.value).toString()).toBe('p2')
    expect(getAt(sm, at3, 'c')).toBeNull()
    // Past the current revision: clamped to it (the leader checks before it proposes).
    const [clamped] = sm.apply([{ slot: slot(6), value: [{ type: 'compact', revision: 99, proposal: 'd', idempotency: null }] }])
    expect(clamped!.result).toEqual({ type: 'history_compacted', revision: 4 })
    expect(sm.history.rangeFloor).toBe(4)
  })
})
