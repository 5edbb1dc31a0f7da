/**
 * Goal: the KV state machine's semantics, its quota and its snapshots.
 * Method: the semantics suite (kv-semantics.ts); quota cases applied through KvStateMachine;
 * snapshot round trips, and restores of damaged streams that must change nothing.
 */
import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { ballotZero, leaseId, limits, nodeId, revision, slot, type Ballot } from '../../src/core/index.js'
import { type Command, type WriteCommand } from '../../src/kv/command.js'
import { KvMemoryStore } from '../../src/kv/kv-memory-store.js'
import { entryOverheadBytes } from '../../src/kv/kv-store.js'
import { KvStateMachine } from '../../src/kv/kv-state-machine.js'
import { encodeSnapshot, headerBytesOf, SnapshotDecoder, SnapshotFormatError, SnapshotTooOldError } from '../../src/kv/snapshot-codec.js'
import { runStateMachineContract } from './kv-semantics.js'

runStateMachineContract()

const codecLimits = {
  chunkBytesMax: 256, keyBytesMax: limits.keyBytesMax, valueBytesMax: limits.valueBytesMax,
  idempotencyKeyBytesMax: limits.idempotencyKeyBytesMax, requestIdBytesMax: limits.requestIdBytesMax,
}

let proposals = 0
function put(key: string, bytes: number, quotaBytes?: number): WriteCommand {
  proposals += 1
  const value = Buffer.alloc(bytes, 7).toString('base64')
  return { type: 'put', proposal: `q${proposals}`, key, value, cas: null, idempotency: null, ...(quotaBytes === undefined ? {} : { quotaBytes }) }
}
const del = (key: string): WriteCommand => ({ type: 'delete', proposal: `d${(proposals += 1)}`, key, cas: null, idempotency: null })
const applyOne = (sm: KvStateMachine, ...commands: Command[]) => sm.apply([{ slot: slot(sm.appliedIndex() + 1), value: commands }]).map((applied) => applied.result)

describe('quota', () => {
  const entry = (key: string, bytes: number) => key.length + bytes + entryOverheadBytes

  it('refuses a put that would grow live data past the quota carried in the command, and nothing changes', () => {
    const sm = new KvStateMachine()
    const quota = entry('a', 100) + entry('b', 100)
    expect(applyOne(sm, put('a', 100, quota), put('b', 100, quota))).toMatchObject([{ type: 'written' }, { type: 'written' }])
    expect(sm.usedBytes()).toBe(quota)
    expect(applyOne(sm, put('c', 1, quota), put('a', 101, quota))).toEqual([{ type: 'quota_exceeded' }, { type: 'quota_exceeded' }])
    expect(sm.get('c')).toBeNull()
    expect(sm.get('a')!.value.byteLength).toBe(100)
    expect(sm.revision()).toBe(2)
  })

  it('lets through what does not grow: same-size and smaller puts, and deletes; then there is room again', () => {
    const sm = new KvStateMachine()
    const quota = entry('a', 100)
    applyOne(sm, put('a', 100, quota))
    expect(applyOne(sm, put('a', 100, quota), put('a', 10, quota), del('a'))).toMatchObject([
      { type: 'written', revision: 2 }, { type: 'written', revision: 3 }, { type: 'written', revision: 4, deleted: true },
    ])
    expect(sm.usedBytes()).toBe(0)
    expect(applyOne(sm, put('b', 50, quota))).toMatchObject([{ type: 'written', revision: 5 }])
  })

  it('a command without a quota (an older log) is never refused', () => {
    const sm = new KvStateMachine()
    expect(applyOne(sm, put('a', 10_000))).toMatchObject([{ type: 'written' }])
  })
})

describe('snapshots', () => {
  function filled(): KvStateMachine {
    const sm = new KvStateMachine({ snapshotChunkBytesMax: 256 })
    for (let index = 0; index < 40; index += 1) applyOne(sm, put(`key/${index}`, index * 3), { ...del('key/3'), idempotency: { key: `i${index}`, atMs: index } })
    return sm
  }

  it('are a point-in-time view: later writes do not reach a snapshot taken before them', () => {
    const sm = filled()
    const snapshot = sm.snapshot()
    applyOne(sm, put('after', 5), del('key/10'))
    const restored = new KvStateMachine({ snapshotChunkBytesMax: 256 })
    restored.restore(snapshot.chunks())
    expect(restored.appliedIndex()).toBe(40)
    expect(restored.get('after')).toBeNull()
    expect(restored.get('key/10')).not.toBeNull()
    expect(restored.range('', 100)).toEqual(filled().range('', 100))
    expect(restored.usedBytes()).toBe(filled().usedBytes())
  })

  it('come in chunks no larger than the limit, and encode the same bytes on every pass', () => {
    const snapshot = filled().snapshot()
    const first = [...snapshot.chunks()]
    expect(first.length).toBeGreaterThan(5)
    expect(Math.max(...first.map((chunk) => chunk.byteLength))).toBeLessThanOrEqual(256)
    expect([...snapshot.chunks()]).toEqual(first)
  })

  it('take their chunk target from the option (--snapshot-chunk-bytes): a smaller target, more and smaller chunks, the same state', () => {
    const fill = (target?: number): KvStateMachine => {
      const sm = new KvStateMachine({ snapshotChunkBytesMax: 4096, ...(target === undefined ? {} : { snapshotChunkBytesTarget: target }) })
      for (let index = 0; index < 60; index += 1) applyOne(sm, put(`key/${index}`, 40))
      return sm
    }
    const large = [...fill().snapshot().chunks()]
    const small = [...fill(512).snapshot().chunks()]
    expect(small.length).toBeGreaterThan(large.length)
    // A chunk closes once the next entry would pass the target: each stays within it plus one entry.
    expect(Math.max(...small.map((chunk) => chunk.byteLength))).toBeLessThanOrEqual(512 + 128)
    const restored = new KvStateMachine({ snapshotChunkBytesMax: 4096 })
    restored.restore(small)
    expect(restored.range('', 100)).toEqual(fill().range('', 100))
  })

  it('close a chunk at the target size, give a larger entry a chunk of its own, and restore alike', () => {
    const store = new KvMemoryStore()
    for (let index = 0; index < 40; index += 1) {
      const bytes = index === 20 ? 600 : 10 // one entry larger than the target, smaller than the max
      store.put(`k${String(index).padStart(2, '0')}`, { value: Buffer.alloc(bytes, index), version: revision(index + 1), createRevision: revision(index + 1), writes: 1, lease: null })
    }
    store.setPosition(slot(40), revision(40))
    const chunks = [...encodeSnapshot(store.view(), 1024, 128)]
    const sizes = chunks.map((chunk) => chunk.byteLength)
    expect(sizes.filter((size) => size > 128)).toHaveLength(1) // only the chunk of the large entry
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1024)
    expect(chunks.length).toBeGreaterThan([...encodeSnapshot(store.view(), 1024)].length)
    const decoder = new SnapshotDecoder({ ...codecLimits, chunkBytesMax: 1024 })
    for (const chunk of chunks) decoder.push(chunk)
    expect(decoder.finish().range('', 100, null)).toEqual(store.range('', 100, null))
  })

  it('carry every key\'s metadata and every lease, and restore them exactly; a key on a lease the snapshot lacks is refused', () => {
    const store = new KvMemoryStore()
    store.leasePut(leaseId('9223372036854775807'), 30)
    store.leasePut(leaseId('12'), 5)
    store.put('leased', { value: Buffer.from('v'), version: revision(9), createRevision: revision(4), writes: 3, lease: leaseId('9223372036854775807') })
    store.put('plain', { value: new Uint8Array(0), version: revision(2), createRevision: revision(2), writes: 1, lease: null })
    store.setPosition(slot(9), revision(9))
    const decoder = new SnapshotDecoder(codecLimits)
    for (const chunk of encodeSnapshot(store.view(), 256)) decoder.push(chunk)
    const restored = decoder.finish()
    expect(restored.range('', 10, null)).toEqual(store.range('', 10, null))
    expect(restored.get('leased')).toMatchObject({ createRevision: 4, writes: 3, lease: '9223372036854775807' })
    expect([...restored.leases()]).toEqual([['12', 5], ['9223372036854775807', 30]])
    expect(restored.leaseGet(leaseId('9223372036854775807'))).toEqual({ ttlSeconds: 30, keys: 1 })
    const orphan = new KvMemoryStore()
    orphan.put('k', { value: Buffer.from('v'), version: revision(1), createRevision: revision(1), writes: 1, lease: leaseId('7') })
    orphan.setPosition(slot(1), revision(1))
    const refusing = new SnapshotDecoder(codecLimits)
    expect(() => [...encodeSnapshot(orphan.view(), 256)].forEach((chunk) => refusing.push(chunk))).toThrow(/lease 7, which the snapshot does not hold/)
  })

  it('of format 1 (before key metadata) are refused with their own error, and the state stays as it was', () => {
    const chunks = [...filled().snapshot().chunks()].map((chunk) => new Uint8Array(chunk))
    const header = Buffer.from(chunks[0]!)
    header.writeUInt16LE(1, 9) // u8 kind, 8 bytes of magic, then the format
    const target = new KvStateMachine({ snapshotChunkBytesMax: 256 })
    applyOne(target, put('mine', 4))
    expect(() => target.restore([header, ...chunks.slice(1)])).toThrow(SnapshotTooOldError)
    expect(target.range('', 10).items.map((item) => item.key)).toEqual(['mine'])
  })

  it('of format 2 (before leases) still restore, with no leases', () => {
    const sm = filled()
    // No lease chunk here, as format 2 has none; its header has no lease count.
    const restored = new KvStateMachine({ snapshotChunkBytesMax: 256 })
    restored.restore(asFormat(2, sm.snapshot().chunks()))
    expect(restored.range('', 100)).toEqual(sm.range('', 100))
    expect([...restored.leases()]).toEqual([])
  })

  it('restore in one bulk load whose values own their bytes: overwriting the chunks afterwards changes nothing, and lease keys and used bytes are rebuilt', () => {
    const store = new KvMemoryStore()
    store.leasePut(leaseId('5'), 30)
    for (let index = 0; index < 30; index += 1) {
      store.put(`k${String(index).padStart(2, '0')}`, { value: Buffer.alloc(index, index), version: revision(index + 1), createRevision: revision(index + 1), writes: 1, lease: index % 3 === 0 ? leaseId('5') : null })
    }
    store.setPosition(slot(30), revision(30))
    const chunks = [...encodeSnapshot(store.view(), 256)].map((chunk) => Buffer.from(chunk))
    const decoder = new SnapshotDecoder(codecLimits)
    for (const chunk of chunks) decoder.push(chunk)
    const restored = decoder.finish()
    for (const chunk of chunks) chunk.fill(0xee)
    expect(restored.range('', 100, null)).toEqual(store.range('', 100, null))
    expect(restored.leaseKeys(leaseId('5'))).toEqual(store.leaseKeys(leaseId('5')))
    expect(restored.leaseGet(leaseId('5'))).toEqual({ ttlSeconds: 30, keys: 10 })
    expect(restored.usedBytes()).toBe(store.usedBytes())
    // The restored store takes writes and deletes like any other.
    restored.put('k01', { value: Buffer.from('new'), version: revision(31), createRevision: revision(2), writes: 2, lease: null })
    expect(restored.delete('k00')).toBe(true)
    expect(restored.get('k01')?.value).toEqual(new Uint8Array(Buffer.from('new')))
    expect(restored.leaseGet(leaseId('5'))).toEqual({ ttlSeconds: 30, keys: 9 })
  })

  it.each([
    ['a creation after the last write', { createRevision: revision(5), version: revision(4), writes: 1 }],
    ['more writes than revisions since creation', { createRevision: revision(3), version: revision(4), writes: 3 }],
  ])('with %s are refused', (_name, meta) => {
    // Encoded by hand past the store's own assertion: what a damaged or forged stream could hold.
    const store = new KvMemoryStore()
    store.put('k', { value: Buffer.from('v'), version: revision(9), createRevision: revision(1), writes: 1, lease: null })
    store.setPosition(slot(9), revision(9))
    const [header, data, ...rest] = [...encodeSnapshot(store.view(), 256)].map((chunk) => Buffer.from(chunk))
    const at = 1 + 4 + 2 + 1 // kind, count, key length, key
    data!.writeDoubleLE(meta.version, at)
    data!.writeDoubleLE(meta.createRevision, at + 8)
    data!.writeDoubleLE(meta.writes, at + 16)
    const decoder = new SnapshotDecoder(codecLimits)
    expect(() => [header!, data!, ...rest].forEach((chunk) => decoder.push(chunk))).toThrow(/createRevision/)
  })

  const damaged: [string, (chunks: Uint8Array[]) => Uint8Array[]][] = [
    ['cut short (no end chunk)', (chunks) => chunks.slice(0, -1)],
    ['missing a middle chunk', (chunks) => [...chunks.slice(0, 2), ...chunks.slice(3)]],
    ['with two chunks swapped', (chunks) => [chunks[0]!, chunks[2]!, chunks[1]!, ...chunks.slice(3)]],
    ['with a flipped byte in a value', (chunks) => chunks.map((chunk, index) => (index === 2 ? flip(chunk, chunk.length - 3) : chunk))],
    ['with a bad magic', (chunks) => [flip(chunks[0]!, 2), ...chunks.slice(1)]],
    ['with a chunk cut in the middle of an item', (chunks) => chunks.map((chunk, index) => (index === 1 ? chunk.subarray(0, chunk.length - 2) : chunk))],
    ['with data after the end', (chunks) => [...chunks, chunks[1]!]],
    ['empty', () => []],
  ]
  it.each(damaged)('a stream %s is refused, and the state stays as it was', (_name, damage) => {
    const chunks = [...filled().snapshot().chunks()].map((chunk) => new Uint8Array(chunk))
    const target = new KvStateMachine({ snapshotChunkBytesMax: 256 })
    applyOne(target, put('mine', 4))
    expect(() => target.restore(damage(chunks))).toThrow(SnapshotFormatError)
    expect(target.appliedIndex()).toBe(1)
    expect(target.range('', 10).items.map((item) => item.key)).toEqual(['mine'])
  })
})

describe('lease commands carry retry records', () => {
  const request = (id: string) => ({ id, atMs: 1000 })
  const grant = (id: string, ttlSeconds: number, requestId?: string): WriteCommand =>
    ({ type: 'lease-grant', id, ttlSeconds, proposal: `g${(proposals += 1)}`, idempotency: null, ...(requestId === undefined ? {} : { request: request(requestId) }) })
  const revoke = (id: string, requestId?: string): WriteCommand =>
    ({ type: 'lease-revoke', id, proposal: `r${(proposals += 1)}`, idempotency: null, ...(requestId === undefined ? {} : { request: request(requestId) }) })
  const putOn = (key: string, lease: string): WriteCommand => ({ ...(put(key, 3) as Extract<WriteCommand, { type: 'put' }>), lease })

  it('a retried revoke answers what the first one did, not lease_not_found', () => {
    const sm = new KvStateMachine()
    applyOne(sm, grant('7', 30, 'req-g'))
    applyOne(sm, putOn('held', '7'))
    const first = applyOne(sm, revoke('7', 'req-r'))
    expect(first).toEqual([{ type: 'lease_revoked', revision: revision(2), deleted: 1 }])
    expect(applyOne(sm, revoke('7', 'req-r'))).toEqual(first)
    // Another request is another revoke: that one finds the lease gone.
    expect(applyOne(sm, revoke('7', 'req-other'))).toEqual([{ type: 'lease_not_found' }])
  })

  it('a late copy of a grant after its revoke does not bring the lease back', () => {
    const sm = new KvStateMachine()
    const granted = applyOne(sm, grant('8', 30, 'req-g'))
    expect(granted).toEqual([{ type: 'lease_granted', id: '8', ttlSeconds: 30, created: true }])
    applyOne(sm, revoke('8', 'req-r'))
    // The first answer again, but for `created`: a retry creates nothing.
    expect(applyOne(sm, grant('8', 30, 'req-g'))).toEqual([{ type: 'lease_granted', id: '8', ttlSeconds: 30, created: false }])
    expect(sm.lease(leaseId('8'))).toBeNull()
  })

  it('a copy of a grant without a record that finds its lease there creates nothing, and says so', () => {
    const sm = new KvStateMachine()
    expect(applyOne(sm, grant('11', 30), grant('11', 60))).toEqual([
      { type: 'lease_granted', id: '11', ttlSeconds: 30, created: true },
      { type: 'lease_granted', id: '11', ttlSeconds: 30, created: false },
    ])
  })

  it('the records survive a snapshot: a retry after a restore answers alike', () => {
    const sm = new KvStateMachine()
    applyOne(sm, grant('9', 30, 'req-g'))
    const retried = applyOne(sm, grant('9', 30, 'req-g'))
    applyOne(sm, putOn('a', '9'), putOn('b', '9'))
    const revoked = applyOne(sm, revoke('9', 'req-r'))
    const restored = new KvStateMachine()
    restored.restore(sm.snapshot().chunks())
    expect(applyOne(restored, revoke('9', 'req-r'))).toEqual(revoked)
    expect(applyOne(restored, grant('9', 30, 'req-g'))).toEqual(retried)
    expect(restored.lease(leaseId('9'))).toBeNull()
  })

  it('an expiry revoke (no request id) keeps no record', () => {
    const sm = new KvStateMachine()
    applyOne(sm, grant('10', 30, 'req-g'))
    const before = sm.snapshot()
    applyOne(sm, revoke('10'))
    const after = [...sm.snapshot().chunks()]
    // One record (the grant's) before and after: the header's request-record count is the same.
    const requestRecords = (chunks: Uint8Array[]) => Buffer.from(chunks[0]!).readDoubleLE(1 + 8 + 2 + 8 * 4)
    expect(requestRecords(after)).toBe(requestRecords([...before.chunks()]))
    expect(requestRecords(after)).toBe(1)
  })
})

describe('the lease epoch', () => {
  const ballot = (round: number, node = 1): Ballot => ({ round, node: nodeId(node) })
  const marker = (round: number, node = 1): WriteCommand => ({ type: 'lease-epoch', ballot: ballot(round, node), proposal: `e${(proposals += 1)}`, idempotency: null })
  const grant = (id: string): WriteCommand => ({ type: 'lease-grant', id, ttlSeconds: 30, proposal: `g${(proposals += 1)}`, idempotency: null })
  const expiry = (id: string, round: number | null): WriteCommand =>
    ({ type: 'lease-revoke', id, proposal: `x${(proposals += 1)}`, idempotency: null, ...(round === null ? {} : { expiryBallot: ballot(round) }) })
  const putOn = (key: string, lease: string): WriteCommand => ({ ...(put(key, 3) as Extract<WriteCommand, { type: 'put' }>), lease })

  /** A lease 7 with a key, under the epoch of leader 5.1. */
  function underEpoch5(): KvStateMachine {
    const sm = new KvStateMachine()
    applyOne(sm, grant('7'), putOn('held', '7'))
    expect(applyOne(sm, marker(5))).toEqual([{ type: 'lease_epoch', epoch: ballot(5) }])
    return sm
  }

  it('a marker raises the epoch to its ballot; an older one, chosen later, leaves it; neither changes a key or the revision', () => {
    const sm = underEpoch5()
    expect(applyOne(sm, marker(3, 2), marker(5))).toEqual([{ type: 'lease_epoch', epoch: ballot(5) }, { type: 'lease_epoch', epoch: ballot(5) }])
    expect(applyOne(sm, marker(5, 2))).toEqual([{ type: 'lease_epoch', epoch: ballot(5, 2) }])
    expect(sm.leaseEpoch()).toEqual(ballot(5, 2))
    expect(sm.revision()).toBe(1)
  })

  it.each([
    ['an expiry an older leader decided is ignored: the lease and its key stay', 4, [{ type: 'lease_expiry_stale', epoch: ballot(5) }], true],
    ['an expiry the leader of the epoch decided applies', 5, [{ type: 'lease_revoked', revision: revision(2), deleted: 1 }], false],
    ['a client\'s revoke (no ballot) is not gated by the epoch', null, [{ type: 'lease_revoked', revision: revision(2), deleted: 1 }], false],
  ] as const)('%s', (_name, round, results, kept) => {
    const sm = underEpoch5()
    expect(applyOne(sm, expiry('7', round))).toEqual(results)
    expect(sm.lease(leaseId('7')) !== null).toBe(kept)
    expect(sm.get('held') !== null).toBe(kept)
    expect(sm.revision()).toBe(kept ? 1 : 2)
  })

  it('before any marker (epoch zero, as a log from before the epoch) every expiry applies', () => {
    const sm = new KvStateMachine()
    applyOne(sm, grant('7'))
    expect(sm.leaseEpoch()).toEqual(ballotZero)
    expect(applyOne(sm, expiry('7', 1))).toEqual([{ type: 'lease_revoked', revision: revision(0), deleted: 0 }])
  })

  it('is in snapshots: a restored replica ignores the same stale expiry', () => {
    const restored = new KvStateMachine()
    restored.restore(underEpoch5().snapshot().chunks())
    expect(restored.leaseEpoch()).toEqual(ballot(5))
    expect(applyOne(restored, expiry('7', 4))).toEqual([{ type: 'lease_expiry_stale', epoch: ballot(5) }])
    expect(restored.get('held')).not.toBeNull()
  })

  it('a format-5 snapshot (before the epoch) restores with epoch zero', () => {
    const sm = underEpoch5()
    const restored = new KvStateMachine()
    restored.restore(asFormat(5, sm.snapshot().chunks()))
    expect(restored.leaseEpoch()).toEqual(ballotZero)
    expect(restored.range('', 10)).toEqual(sm.range('', 10))
    expect([...restored.leases()]).toEqual([...sm.leases()])
  })

  it.each([
    ['a round without a node', 5, 0],
    ['a node without a round', 0, 1],
    ['a node past the largest cluster', 5, limits.nodesMax + 1],
  ])('a snapshot whose epoch has %s is refused', (_name, round, node) => {
    const chunks = [...underEpoch5().snapshot().chunks()].map((chunk) => Buffer.from(chunk))
    const epochAt = headerBytesOf(6) - 16
    chunks[0]!.writeDoubleLE(round, epochAt)
    chunks[0]!.writeDoubleLE(node, epochAt + 8)
    const end = chunks.at(-1)!
    end.writeUInt32LE(chunks.slice(0, -1).reduce((sum, chunk) => crc32(chunk, sum), 0), 9)
    expect(() => new KvStateMachine().restore(chunks)).toThrow(/lease epoch/)
  })
})

/**
 * The same snapshot in an older format: the header cut to that format's fields (the later ones
 * are appended, so the older header is a prefix), and the end chunk's checksum over the chunks.
 */
function asFormat(format: number, chunks: Iterable<Uint8Array>): Buffer[] {
  const all = [...chunks].map((chunk) => Buffer.from(chunk))
  const header = Buffer.from(all[0]!.subarray(0, headerBytesOf(format)))
  header.writeUInt16LE(format, 9) // u8 kind, 8 bytes of magic, then the format
  const body = [header, ...all.slice(1, -1)]
  const end = Buffer.from(all.at(-1)!)
  end.writeUInt32LE(body.reduce((sum, chunk) => crc32(chunk, sum), 0), 9)
  return [...body, end]
}

function flip(chunk: Uint8Array, at: number): Uint8Array {
  const copy = new Uint8Array(chunk)
  copy[at] = copy[at]! ^ 0xff
  return copy
}
