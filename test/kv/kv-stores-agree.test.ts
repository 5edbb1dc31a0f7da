/**
 * Goal: the B+ tree store is exactly a sorted map in UTF-8 byte order (the order SQLite's BINARY
 * collation gave, which clients see in listings), and a snapshot taken at any slot restores to
 * a state machine that goes on to give the same results as the one that applied every slot.
 * Method: seeded random batches (puts, deletes, cas hits and misses, txns, idempotency and request-id
 * retries, reused keys, clock jumps that expire, small record bounds that refuse, keys that
 * UTF-16 order gets wrong) applied to the state
 * machine and to a naive reference store (a Map sorted with Buffer.compare on every listing);
 * compared after every slot. Every 25 slots the machine is replaced by a restore of its own
 * snapshot. A failure names its seed.
 */
import { describe, expect, it } from 'vitest'
import { ballotZero, isCoreEntry, randomBelow, randomChance, revision, revisionZero, seededRandom, slot, type Ballot, type LeaseId, type Random, type Revision, type Slot } from '../../src/core/index.js'
import { type Command } from '../../src/kv/command.js'
import { limits } from '../../src/core/limits.js'
import { compareKeys } from '../../src/kv/key-order.js'
import { applyWrite } from '../../src/kv/kv.js'
import type { DedupeRecord, KvStore, RecordSpace, StoredValue } from '../../src/kv/kv-store.js'
import { KvStateMachine } from '../../src/kv/kv-state-machine.js'
import type { AppliedWrite, KvPage } from '../../src/kv/state-machine.js'

const idempotencyRetentionMs = limits.idempotencyRetentionMs
/** Small bounds, so that refusals happen; the request space's retention is shorter, as in production. */
const bounds = {
  idempotency: { recordsMax: 6, retentionMs: idempotencyRetentionMs },
  request: { recordsMax: 4, retentionMs: idempotencyRetentionMs / 4 },
}
const keys = ['a', 'a/b', 'a/\u00e9', 'a/\u{1F600}', 'a/\uE000', 'a/\uFFFF', 'b', 'b\u0000c', '\u{10FFFF}']
const seeds = [1, 2, 3, 4, 5, 6, 7, 8]

/** The reference: obviously right, slow. Usage is not modelled (no quota in this test). */
class NaiveStore implements KvStore {
  readonly data = new Map<string, StoredValue>()
  /** Maps iterate in insertion order: the first is the oldest. */
  readonly records: Record<RecordSpace, Map<string, DedupeRecord>> = { idempotency: new Map(), request: new Map() }
  position_ = { appliedIndex: slot(0), revision: revisionZero }
  get(key: string): StoredValue | null {
    return this.data.get(key) ?? null
  }
  peek(key: string): StoredValue | null {
    return this.data.get(key) ?? null
  }
  put(key: string, entry: StoredValue): StoredValue | null {
    const previous = this.data.get(key) ?? null
    this.data.set(key, { ...entry, value: new Uint8Array(entry.value) })
    return previous
  }
  delete(key: string): boolean {
    return this.data.delete(key)
  }
  range(prefix: string, limit: number, after: string | null): KvPage {
    const bytes = (key: string) => Buffer.from(key)
    const sorted = [...this.data.keys()]
      .filter((key) => key.startsWith(prefix) && (after === null || Buffer.compare(bytes(key), bytes(after)) > 0))
      .sort((a, b) => Buffer.compare(bytes(a), bytes(b)))
    return { items: sorted.slice(0, limit).map((key) => ({ key, ...this.data.get(key)! })), more: sorted.length > limit }
  }
  position() {
    return this.position_
  }
  setPosition(appliedIndex: Slot, next: Revision): void {
    this.position_ = { appliedIndex, revision: next }
  }
  recordGet(space: RecordSpace, key: string): DedupeRecord | null {
    return this.records[space].get(key) ?? null
  }
  recordPut(space: RecordSpace, key: string, record: DedupeRecord): void {
    this.records[space].set(key, record)
  }
  recordOldest(space: RecordSpace) {
    const first = this.records[space].entries().next()
    return first.done === true ? null : { key: first.value[0], record: first.value[1] }
  }
  recordDeleteOldest(space: RecordSpace): void {
    this.records[space].delete(this.records[space].keys().next().value!)
  }
  recordCount(space: RecordSpace): number {
    return this.records[space].size
  }
  usedBytes(): number {
    return 0
  }
  /** No lease is ever granted in this test: every lease answer is "none". */
  leaseGet(): null {
    return null
  }
  leasePut(): void {
    throw new Error('no leases in this test')
  }
  leaseDelete(): void {
    throw new Error('no leases in this test')
  }
  leaseKeys(): readonly string[] {
    return []
  }
  leaseCount(): number {
    return 0
  }
  leases(): Iterable<readonly [LeaseId, number]> {
    return []
  }
  leaseEpoch(): Ballot {
    return ballotZero
  }
  setLeaseEpoch(): void {
    throw new Error('no lease epochs in this test')
  }
}

function randomCommand(random: Random, state: { atMs: number; proposals: number }, version: number): Command {
  if (randomChance(random, 1, 10)) return { type: 'noop' }
  state.proposals += 1
  // Mostly small steps, sometimes a jump past the retention, sometimes an older proposer clock.
  state.atMs += randomChance(random, 1, 20) ? idempotencyRetentionMs : randomBelow(random, 1_000)
  const atMs = randomChance(random, 1, 8) ? Math.max(0, state.atMs - idempotencyRetentionMs) : state.atMs
  const token = randomBelow(random, 3)
  const casChoice = randomBelow(random, 4)
  const cas = casChoice === 0 ? revision(0) : casChoice === 1 ? revision(version) : null
  const fields = {
    proposal: `p${state.proposals}`,
    key: keys[randomBelow(random, keys.length)]!,
    cas,
    idempotency: token === 0 ? { key: `i${randomBelow(random, 12)}`, atMs } : null,
    // Request ids name one request each, but retries of it come in many slots.
    ...(token === 1 ? { request: { id: `r${randomBelow(random, 8)}`, atMs } } : {}),
  }
  if (randomChance(random, 1, 6)) {
    // A txn: a version compare, then two writes of distinct keys, or a prefix delete and reads.
    const { key, cas: _cas, ...rest } = fields
    const other = keys.filter((candidate) => candidate !== key)[randomBelow(random, keys.length - 1)]!
    return {
      type: 'txn', ...rest,
      compare: [{ key, target: 'version', op: randomChance(random, 1, 2) ? '=' : '>', value: version }],
      success: [{ type: 'put', key, value: Buffer.from(`t${state.proposals}`).toString('base64'), lease: null }, { type: 'delete', key: other }, { type: 'list', prefix: 'a', limit: 3 }],
      failure: [{ type: 'deletePrefix', prefix: 'a/' }, { type: 'get', key }],
    }
  }
  if (randomChance(random, 1, 3)) return { type: 'delete', ...fields }
  return { type: 'put', ...fields, value: Buffer.from(`v${state.proposals}`).toString('base64') }
}

function applyNaive(store: NaiveStore, at: Slot, value: readonly Command[]): AppliedWrite[] {
  let current = store.position().revision
  const results: AppliedWrite[] = []
  for (const command of value) {
    if (isCoreEntry(command)) continue
    const outcome = applyWrite(store, command, current, bounds)
    current = outcome.revision
    results.push({ proposal: command.proposal, slot: at, result: outcome.result })
  }
  store.setPosition(at, current)
  return results
}

describe('the B+ tree store agrees with a naive sorted map, across snapshots and restores', () => {
  it('compareKeys is UTF-8 byte order', () => {
    const sorted = [...keys].sort(compareKeys)
    expect(sorted).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))))
    expect(sorted.indexOf('a/\uFFFF')).toBeLessThan(sorted.indexOf('a/\u{1F600}')) // UTF-16 order has them the other way
  })

  it.each(seeds)('seed %i', (seed) => {
    const random = seededRandom(seed)
    const options = { ...bounds, snapshotChunkBytesMax: 200 }
    let machine = new KvStateMachine(options)
    const naive = new NaiveStore()
    const state = { atMs: 0, proposals: 0 }
    const replay = `replay: seed ${seed} in test/kv/kv-stores-agree.test.ts`
    for (let at = 1; at <= 300; at += 1) {
      const size = 1 + randomBelow(random, 4)
      const value = Array.from({ length: size }, () => randomCommand(random, state, randomBelow(random, machine.revision() + 1)))
      expect(machine.apply([{ slot: slot(at), value }]), `${replay}, slot ${at}`).toEqual(applyNaive(naive, slot(at), value))
      expect(machine.revision(), replay).toBe(naive.position().revision)
      expect(machine.range('', 100), `${replay}, slot ${at}`).toEqual(naive.range('', 100, null))
      // Resuming after any key (present or not, inside the prefix or past it) agrees too.
      const after = keys[randomBelow(random, keys.length)]!
      expect(machine.range('a', 3, after), `${replay}, slot ${at}, after ${JSON.stringify(after)}`).toEqual(naive.range('a', 3, after))
      if (at % 25 === 0) {
        const restored = new KvStateMachine(options)
        restored.restore(machine.snapshot().chunks())
        expect(restored.appliedIndex(), replay).toBe(at)
        machine = restored
      }
    }
    expect(machine.range('a/', 2), replay).toEqual(naive.range('a/', 2, null))
    expect(machine.revision(), `${replay}: the run should write`).toBeGreaterThan(50)
  })
})
