/**
 * The KV snapshot format: a header chunk, data chunks, idempotency-record chunks and an end
 * chunk, each at most `chunkBytesMax` bytes, values as raw bytes. The end chunk carries the
 * chunk count and a CRC-32 over every chunk before it, so a stream cut short, reordered or
 * altered is refused. The reader validates every field, because snapshots are read from disk
 * and (later) from peers: a bad stream is a `SnapshotFormatError`, never an assertion.
 *
 * Chunk layout (little-endian; numbers are float64 holding safe integers, which are exact):
 *   header:  u8 1 | "PXKVSNAP" | u16 format | f64 appliedIndex | f64 revision | f64 dataCount
 *            | f64 idempotencyRecords | f64 requestRecords | f64 leases (format 3 on)
 *            | f64 leaseEpochRound | f64 leaseEpochNode (format 6 on; 0 and 0: no marker applied)
 *   data:    u8 2 | u32 n | n × (u16 keyBytes | key | f64 version | f64 createRevision | f64 writes
 *            | u8 leaseBytes (0: none) | lease digits | u32 valueBytes | value)
 *   records: u8 3 | u32 n | n × (u8 space | u16 keyBytes | key | f64 atMs | u8 result | f64 revision
 *            | u8 deleted | [txn results] | u16 fingerprintBytes (0xffff: none) | fingerprint)
 *            where a txn record (result 4) has u8 deleted = succeeded (1 no, 2 yes) and its
 *            results as u8 n | n × (u8 op: 1 put, 2 delete, 3 read not kept | f64 revision or count);
 *            a lease grant's record (result 7) has f64 revision = its TTL, u8 deleted 0, then
 *            u8 idBytes | id digits; a lease revoke's (result 8) has u8 deleted 0, then f64 keys
 *            deleted (format 4 on)
 *   leases:  u8 5 | u32 n | n × (u8 idBytes | id digits | f64 ttlSeconds), ids in increasing order
 *   configs: u8 6 | u32 n | n × (f64 slot | u8 members | members × (u8 id | u8 role: 1 voter,
 *            2 learner | u16 urlBytes | url)), slots increasing (format 5 on; one chunk at most)
 *   end:     u8 4 | f64 chunkCount | u32 crc32 of all earlier chunks
 * Data keys are strictly increasing in UTF-8 byte order; each space's records come oldest
 * applied first (the Idempotency-Key space, then the request-id space).
 *
 * Format 6 added the lease epoch (older snapshots restore with epoch zero: below every leader's,
 * so no expiry is ignored until a marker applies, as before the epoch existed).
 * Format 5 added the member configurations (older snapshots have none: the bootstrap list holds).
 * Format 4 added retry records of lease grants and revokes (formats 2 and 3 have none and still
 * restore). Format 3 added leases (format 2 snapshots, which have none, still restore). Format 2 added the key metadata (createRevision, writes, lease). Format 1 snapshots lack it and
 * cannot be completed from what they hold (a key's creation revision is gone): the decoder
 * refuses them with `SnapshotTooOldError`, and the node rebuilds from its log instead while the
 * log still starts at slot 1 (see node.ts).
 * @module
 */
import { isUtf8 } from 'node:buffer'
import { crc32 } from 'node:zlib'
import { assert } from '../core/assert.js'
import { ballotZero, type Ballot } from '../core/ballot.js'
import { memberListProblem, type ChosenConfig, type ConfigMember } from '../core/configuration.js'
import { isLeaseId, leaseId, nodeId, revision, slot, type Revision, type Slot } from '../core/ids.js'
import { limits as coreLimits } from '../core/limits.js'
import { compareKeys } from './key-order.js'
import { recordSpaces, type DedupeRecord, type RecordSpace, type StoredValue } from './kv-store.js'
import { configsKept, KvMemoryStore, type KvStoreView } from './kv-memory-store.js'
import type { ApplyResult, TxnOpResult, TxnResult } from './state-machine.js'

export const snapshotFormatVersion = 6
const magic = Buffer.from('PXKVSNAP', 'latin1')
const kind = { header: 1, data: 2, records: 3, end: 4, leases: 5, configs: 6 } as const
/** Format 2's header has no lease count, formats before 6 no lease epoch. */
export const headerBytesOf = (format: number): number => 1 + magic.length + 2 + (format >= 6 ? 8 : format >= 3 ? 6 : 5) * 8
const headerBytes = headerBytesOf(snapshotFormatVersion)
const endBytes = 1 + 8 + 4
const chunkPrefixBytes = 1 + 4
/** The results a record can hold: those of a write that was evaluated. */
const resultCodes = { written: 1, cas_mismatch: 2, quota_exceeded: 3, txn: 4, lease_not_found: 5, lease_limit: 6, lease_granted: 7, lease_revoked: 8 } as const
const txnOpCodes = { put: 1, delete: 2, not_kept: 3 } as const
const spaceCodes: Readonly<Record<RecordSpace, number>> = { idempotency: 1, request: 2 }
const noFingerprint = 0xffff
/** A lease id is at most 19 digits (int64). */
const leaseBytesMax = 19
/** A fingerprint is a base64url SHA-256 (43 characters); anything much longer is damage. */
const fingerprintBytesMax = 256

export type SnapshotCodecLimits = Readonly<{
  chunkBytesMax: number
  keyBytesMax: number
  valueBytesMax: number
  idempotencyKeyBytesMax: number
  requestIdBytesMax: number
}>

/** A snapshot stream that is not a valid KV snapshot: refused, nothing changed. */
export class SnapshotFormatError extends Error {
  override name = 'SnapshotFormatError'
}

/** A format-1 snapshot (before key metadata): refused, and the caller may rebuild from the log. */
export class SnapshotTooOldError extends SnapshotFormatError {
  override name = 'SnapshotTooOldError'
  readonly format: number

  constructor(format: number) {
    super(`snapshot format ${format} has no key metadata; this build reads format ${snapshotFormatVersion}`)
    this.format = format
  }
}

/** A data entry's bytes besides its key and value. */
const dataFixedBytes = 2 + 8 + 8 + 8 + 1 + 4

/** The largest data entry must fit one chunk with its prefix. */
export function chunkBytesNeeded(limits: Omit<SnapshotCodecLimits, 'chunkBytesMax'>): number {
  return chunkPrefixBytes + dataFixedBytes + limits.keyBytesMax + leaseBytesMax + limits.valueBytesMax
}

/**
 * Encodes `view` lazily: one chunk of work per step, so a writer can yield between chunks. A
 * chunk closes once the next entry would take it past `chunkBytesTarget` (a larger entry gets a
 * chunk of its own), so one step's work stays small whatever the maximum entry size.
 */
export function* encodeSnapshot(view: KvStoreView, chunkBytesMax: number, chunkBytesTarget = chunkBytesMax): Generator<Uint8Array> {
  assert(chunkBytesMax >= headerBytes && chunkBytesMax >= endBytes, `snapshot chunks of ${chunkBytesMax} bytes are too small`)
  assert(chunkBytesTarget > 0 && chunkBytesTarget <= chunkBytesMax, `a chunk target of ${chunkBytesTarget} bytes outside 1..${chunkBytesMax}`)
  let checksum = 0
  let chunks = 0
  const emit = (chunk: Buffer): Buffer => {
    assert(chunk.length <= chunkBytesMax, `snapshot chunk of ${chunk.length} bytes exceeds ${chunkBytesMax}`)
    checksum = crc32(chunk, checksum)
    chunks += 1
    return chunk
  }
  const header = Buffer.alloc(headerBytes)
  header.writeUInt8(kind.header, 0)
  magic.copy(header, 1)
  let at = header.writeUInt16LE(snapshotFormatVersion, 1 + magic.length)
  const numbers = [view.appliedIndex, view.revision, view.dataCount, view.recordCounts.idempotency, view.recordCounts.request, view.leaseCount, view.leaseEpoch.round, view.leaseEpoch.node]
  for (const number of numbers) at = header.writeDoubleLE(number, at)
  yield emit(header)
  const data = new ChunkWriter(kind.data, chunkBytesMax, chunkBytesTarget)
  for (const [key, stored] of view.data()) {
    const keyBytes = Buffer.from(key, 'utf8')
    const lease = Buffer.from(stored.lease ?? '', 'latin1')
    const full = data.reserve(dataFixedBytes + keyBytes.length + lease.length + stored.value.byteLength)
    if (full !== null) yield emit(full)
    data.u16(keyBytes.length).bytes(keyBytes).f64(stored.version).f64(stored.createRevision).f64(stored.writes)
    data.u8(lease.length).bytes(lease).u32(stored.value.byteLength).bytes(stored.value).counted()
  }
  const lastData = data.flush()
  if (lastData !== null) yield emit(lastData)
  const records = new ChunkWriter(kind.records, chunkBytesMax, chunkBytesTarget)
  for (const space of recordSpaces) {
    for (const [key, record] of view.records(space)) {
      const keyBytes = Buffer.from(key, 'utf8')
      const fingerprint = record.fingerprint === null ? null : Buffer.from(record.fingerprint, 'utf8')
      const result = record.result
      const txnBytes = result.type === 'txn' ? 1 + 9 * result.results.length : 0
      const leaseBytes = result.type === 'lease_granted' ? 1 + result.id.length : result.type === 'lease_revoked' ? 8 : 0
      const full = records.reserve(1 + 2 + keyBytes.length + 8 + 1 + 8 + 1 + txnBytes + leaseBytes + 2 + (fingerprint?.length ?? 0))
      if (full !== null) yield emit(full)
      assert(result.type in resultCodes, `a record holds a ${result.type} result`)
      records.u8(spaceCodes[space]).u16(keyBytes.length).bytes(keyBytes).f64(record.atMs).u8(resultCodes[result.type as keyof typeof resultCodes])
      records.f64(result.type === 'written' || result.type === 'cas_mismatch' || result.type === 'txn' || result.type === 'lease_revoked' ? result.revision : result.type === 'lease_granted' ? result.ttlSeconds : 0)
      if (result.type === 'txn') writeTxnResults(records, result)
      else records.u8(result.type === 'written' ? (result.deleted === null ? 0 : result.deleted ? 2 : 1) : 0)
      if (result.type === 'lease_granted') records.u8(result.id.length).bytes(Buffer.from(result.id, 'latin1'))
      if (result.type === 'lease_revoked') records.f64(result.deleted)
      if (fingerprint === null) records.u16(noFingerprint)
      else records.u16(fingerprint.length).bytes(fingerprint)
      records.counted()
    }
  }
  const lastRecords = records.flush()
  if (lastRecords !== null) yield emit(lastRecords)
  const leases = new ChunkWriter(kind.leases, chunkBytesMax, chunkBytesTarget)
  for (const [id, ttlSeconds] of view.leases()) {
    const full = leases.reserve(1 + id.length + 8)
    if (full !== null) yield emit(full)
    leases.u8(id.length).bytes(Buffer.from(id, 'latin1')).f64(ttlSeconds).counted()
  }
  const lastLeases = leases.flush()
  if (lastLeases !== null) yield emit(lastLeases)
  if (view.configs.length > 0) yield emit(encodeConfigs(view.configs, chunkBytesMax))
  const end = Buffer.alloc(endBytes)
  end.writeUInt8(kind.end, 0)
  end.writeDoubleLE(chunks, 1)
  end.writeUInt32LE(checksum, 9)
  yield end
}

const roleCodes = { voter: 1, learner: 2 } as const

/** The configurations in one chunk: a handful of members each, far below any chunk bound. */
function encodeConfigs(configs: readonly ChosenConfig[], chunkBytesMax: number): Buffer {
  const parts: Buffer[] = [Buffer.from([kind.configs]), Buffer.alloc(4)]
  parts[1]!.writeUInt32LE(configs.length, 0)
  for (const config of configs) {
    const head = Buffer.alloc(9)
    head.writeDoubleLE(config.slot, 0)
    head.writeUInt8(config.members.length, 8)
    parts.push(head)
    for (const member of config.members) {
      const url = Buffer.from(member.url, 'utf8')
      const fixed = Buffer.alloc(4)
      fixed.writeUInt8(member.id, 0)
      fixed.writeUInt8(roleCodes[member.role], 1)
      fixed.writeUInt16LE(url.length, 2)
      parts.push(fixed, url)
    }
  }
  const chunk = Buffer.concat(parts)
  assert(chunk.length <= chunkBytesMax, `a configurations chunk of ${chunk.length} bytes exceeds ${chunkBytesMax}`)
  return chunk
}

function writeTxnResults(records: ChunkWriter, result: TxnResult): void {
  assert(result.results.length <= 255, `a txn record with ${result.results.length} results`)
  records.u8(result.succeeded ? 2 : 1).u8(result.results.length)
  for (const op of result.results) {
    assert(op.type === 'put' || op.type === 'delete' || op.type === 'not_kept', `a txn record keeps a ${op.type} result`)
    records.u8(txnOpCodes[op.type]).f64(op.type === 'put' ? op.revision : op.type === 'delete' ? op.deleted : 0)
  }
}

/**
 * Fills one chunk at a time in a scratch buffer of the maximum size; `reserve` hands back the
 * finished chunk (a copy of just its bytes) when the next item would take it past the target.
 */
class ChunkWriter {
  readonly #kind: number
  readonly #bytesMax: number
  readonly #bytesTarget: number
  readonly #buffer: Buffer
  #length = chunkPrefixBytes
  #count = 0

  constructor(chunkKind: number, bytesMax: number, bytesTarget: number) {
    this.#kind = chunkKind
    this.#bytesMax = bytesMax
    this.#bytesTarget = bytesTarget
    this.#buffer = Buffer.allocUnsafe(bytesMax)
  }

  reserve(itemBytes: number): Buffer | null {
    assert(chunkPrefixBytes + itemBytes <= this.#bytesMax, `a snapshot item of ${itemBytes} bytes cannot fit a ${this.#bytesMax}-byte chunk`)
    if (this.#count === 0 || this.#length + itemBytes <= this.#bytesTarget) return null
    return this.flush()
  }

  flush(): Buffer | null {
    if (this.#count === 0) return null
    this.#buffer.writeUInt8(this.#kind, 0)
    this.#buffer.writeUInt32LE(this.#count, 1)
    const chunk = Buffer.from(this.#buffer.subarray(0, this.#length))
    this.#length = chunkPrefixBytes
    this.#count = 0
    return chunk
  }

  u8(value: number): this {
    this.#length = this.#buffer.writeUInt8(value, this.#length)
    return this
  }

  u16(value: number): this {
    this.#length = this.#buffer.writeUInt16LE(value, this.#length)
    return this
  }

  u32(value: number): this {
    this.#length = this.#buffer.writeUInt32LE(value, this.#length)
    return this
  }

  f64(value: number): this {
    this.#length = this.#buffer.writeDoubleLE(value, this.#length)
    return this
  }

  bytes(value: Uint8Array): this {
    this.#buffer.set(value, this.#length)
    this.#length += value.byteLength
    return this
  }

  counted(): void {
    this.#count += 1
  }
}

type Header = Readonly<{ appliedIndex: Slot; revision: Revision; dataCount: number; recordCounts: Readonly<Record<RecordSpace, number>>; leaseCount: number; leaseEpoch: Ballot }>

/**
 * Decodes a chunk stream into a fresh store, checking everything on the way; `finish` returns it
 * only once the end chunk has confirmed the count and checksum.
 */
const noValueYet = new Uint8Array(0)

export class SnapshotDecoder {
  readonly #limits: SnapshotCodecLimits
  readonly #store = new KvMemoryStore()
  #header: Header | null = null
  #lastKey: string | null = null
  /** The keys and entries read so far, in key order: bulk-loaded into the store at the end. */
  readonly #keys: string[] = []
  readonly #entries: { -readonly [Field in keyof StoredValue]: StoredValue[Field] }[] = []
  /** Where the current chunk's values start and how long they are, entry by entry. */
  readonly #valueStarts: number[] = []
  readonly #valueLengths: number[] = []
  readonly #records: Record<RecordSpace, number> = { idempotency: 0, request: 0 }
  #leases = 0
  #lastLease: string | null = null
  #configs: ChosenConfig[] | null = null
  #chunks = 0
  #checksum = 0
  #ended = false

  constructor(limits: SnapshotCodecLimits) {
    this.#limits = limits
  }

  push(chunk: Uint8Array): void {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (this.#ended) throw new SnapshotFormatError('data after the end of the snapshot')
    if (bytes.length === 0 || bytes.length > this.#limits.chunkBytesMax) throw new SnapshotFormatError(`a chunk of ${bytes.length} bytes (limit ${this.#limits.chunkBytesMax})`)
    const chunkKind = bytes[0]
    if (this.#header === null && chunkKind !== kind.header) throw new SnapshotFormatError('the snapshot does not start with its header')
    switch (chunkKind) {
      case kind.header:
        if (this.#header !== null) throw new SnapshotFormatError('a second header')
        this.#header = readHeader(bytes)
        break
      case kind.data:
        if (this.#records.idempotency + this.#records.request > 0) throw new SnapshotFormatError('data after the dedupe records')
        this.#readDataChunk(bytes)
        break
      case kind.records:
        if (this.#leases > 0) throw new SnapshotFormatError('records after the leases')
        this.#readItems(bytes, (reader) => this.#readRecord(reader))
        break
      case kind.leases:
        if (this.#configs !== null) throw new SnapshotFormatError('leases after the configurations')
        this.#readItems(bytes, (reader) => this.#readLease(reader))
        break
      case kind.configs:
        if (this.#configs !== null) throw new SnapshotFormatError('a second configurations chunk')
        this.#configs = []
        this.#readItems(bytes, (reader) => this.#readConfig(reader))
        if (this.#configs.length > configsKept) throw new SnapshotFormatError(`${this.#configs.length} configurations (at most ${configsKept})`)
        break
      case kind.end:
        this.#readEnd(bytes)
        return
      default:
        throw new SnapshotFormatError(`unknown chunk kind ${chunkKind}`)
    }
    this.#checksum = crc32(bytes, this.#checksum)
    this.#chunks += 1
  }

  /** The restored store; throws unless the whole snapshot arrived and checked out. */
  finish(): KvMemoryStore {
    if (!this.#ended || this.#header === null) throw new SnapshotFormatError('the snapshot ends before its end chunk (truncated)')
    return this.#store
  }

  #readConfig(reader: Reader): void {
    const at = reader.integer('configuration slot')
    const previous = this.#configs![this.#configs!.length - 1]
    if (previous !== undefined && at <= previous.slot) throw new SnapshotFormatError(`configurations out of order (slot ${at} after ${previous.slot})`)
    const count = reader.u8()
    const members: ConfigMember[] = []
    for (let index = 0; index < count; index += 1) {
      const id = reader.u8()
      const role = reader.u8()
      const url = reader.text(reader.u16())
      if (id < 1 || id > coreLimits.nodesMax || (role !== roleCodes.voter && role !== roleCodes.learner) || url.length > coreLimits.memberUrlBytesMax) {
        throw new SnapshotFormatError(`configuration of slot ${at} has an invalid member (${id}, ${role})`)
      }
      members.push({ id: nodeId(id), url, role: role === roleCodes.voter ? 'voter' : 'learner' })
    }
    const problem = memberListProblem(members)
    if (problem !== null) throw new SnapshotFormatError(`configuration of slot ${at}: ${problem}`)
    this.#configs!.push({ slot: slot(at), members })
  }

  #readItems(bytes: Buffer, readItem: (reader: Reader) => void): void {
    const reader = new Reader(bytes, 1)
    const count = reader.u32()
    for (let index = 0; index < count; index += 1) readItem(reader)
    if (!reader.done) throw new SnapshotFormatError(`${bytes.length - reader.offset} stray bytes after a chunk's ${count} items`)
  }

  /**
   * A chunk of keys: each entry's value is first a view into the chunk, then all of them move
   * into one buffer of exactly their bytes (one allocation per chunk, not one per value, and no
   * key or metadata bytes kept alive with the values).
   */
  #readDataChunk(bytes: Buffer): void {
    const first = this.#entries.length
    this.#valueStarts.length = 0
    this.#readItems(bytes, (reader) => this.#readData(reader))
    let total = 0
    for (let index = first; index < this.#entries.length; index++) total += this.#valueLengths[index - first]!
    const values = new Uint8Array(total)
    let offset = 0
    for (let index = first; index < this.#entries.length; index++) {
      const start = this.#valueStarts[index - first]!
      const length = this.#valueLengths[index - first]!
      bytes.copy(values, offset, start, start + length)
      this.#entries[index]!.value = values.subarray(offset, offset + length)
      offset += length
    }
  }

  #readData(reader: Reader): void {
    const header = this.#header!
    const key = reader.key(this.#limits.keyBytesMax)
    if (this.#lastKey !== null && compareKeys(this.#lastKey, key) >= 0) throw new SnapshotFormatError(`key ${JSON.stringify(key)} is out of order or repeated`)
    this.#lastKey = key
    const version = reader.integer('version')
    if (version < 1 || version > header.revision) throw new SnapshotFormatError(`key ${JSON.stringify(key)} has version ${version} outside 1..${header.revision}`)
    const createRevision = reader.integer('create revision')
    const writes = reader.integer('writes')
    // Each write since creation took a revision of its own, the creation's included.
    if (createRevision < 1 || createRevision > version || writes < 1 || writes > version - createRevision + 1) {
      throw new SnapshotFormatError(`key ${JSON.stringify(key)} has createRevision ${createRevision}, writes ${writes} at version ${version}`)
    }
    const leaseLength = reader.u8()
    if (leaseLength > leaseBytesMax) throw new SnapshotFormatError(`a lease id of ${leaseLength} bytes`)
    const lease = leaseLength === 0 ? null : reader.text(leaseLength)
    if (lease !== null && !isLeaseId(lease)) throw new SnapshotFormatError(`key ${JSON.stringify(key)} has lease ${JSON.stringify(lease)}`)
    const length = reader.u32()
    if (length > this.#limits.valueBytesMax) throw new SnapshotFormatError(`a value of ${length} bytes (limit ${this.#limits.valueBytesMax})`)
    if (this.#keys.length >= header.dataCount) throw new SnapshotFormatError(`more than the ${header.dataCount} keys the header announced`)
    this.#keys.push(key)
    // The value stays in the chunk until #readDataChunk moves it (where it starts, how long).
    this.#valueLengths[this.#valueStarts.length] = length
    this.#valueStarts.push(reader.skip(length))
    this.#entries.push({ value: noValueYet, version: revision(version), createRevision: revision(createRevision), writes, lease: lease === null ? null : leaseId(lease) })
  }

  #readRecord(reader: Reader): void {
    const header = this.#header!
    const code = reader.u8()
    const space = recordSpaces.find((candidate) => spaceCodes[candidate] === code)
    if (space === undefined) throw new SnapshotFormatError(`unknown record space ${code}`)
    const key = reader.key(space === 'idempotency' ? this.#limits.idempotencyKeyBytesMax : this.#limits.requestIdBytesMax)
    const atMs = reader.integer('atMs')
    const result = reader.u8()
    const at = reader.integer('result revision')
    const deleted = reader.u8()
    const txnResults = result === resultCodes.txn ? readTxnResults(reader, at, header.revision) : null
    const lease = result === resultCodes.lease_granted ? readLeaseGrant(reader, at, deleted) : result === resultCodes.lease_revoked ? readLeaseRevoke(reader, at, deleted) : null
    const fingerprintLength = reader.u16()
    if (fingerprintLength !== noFingerprint && fingerprintLength > fingerprintBytesMax) throw new SnapshotFormatError(`a fingerprint of ${fingerprintLength} bytes`)
    const fingerprint = fingerprintLength === noFingerprint ? null : reader.text(fingerprintLength)
    if (at > header.revision && result !== resultCodes.lease_granted) throw new SnapshotFormatError(`record ${JSON.stringify(key)} names revision ${at}, past ${header.revision}`)
    if (this.#records[space] >= header.recordCounts[space]) throw new SnapshotFormatError(`more than the ${header.recordCounts[space]} ${space} records the header announced`)
    if (this.#store.recordGet(space, key) !== null) throw new SnapshotFormatError(`${space} record ${JSON.stringify(key)} is repeated`)
    const decoded: ApplyResult = lease !== null
      ? lease
      : txnResults !== null && deleted >= 1 && deleted <= 2
        ? { type: 'txn', succeeded: deleted === 2, revision: revision(at), results: txnResults, replayed: false }
        : toResult(result, at, deleted, key)
    this.#store.recordPut(space, key, { result: decoded, atMs, fingerprint } satisfies DedupeRecord)
    this.#records[space] += 1
  }

  #readLease(reader: Reader): void {
    const header = this.#header!
    const length = reader.u8()
    const id = length === 0 || length > leaseBytesMax ? null : reader.text(length)
    if (id === null || !isLeaseId(id)) throw new SnapshotFormatError('a lease id that is not 1..2^63-1 in digits')
    if (this.#lastLease !== null && this.#lastLease >= id) throw new SnapshotFormatError(`lease ${id} is out of order or repeated`)
    this.#lastLease = id
    const ttlSeconds = reader.integer('lease TTL')
    if (ttlSeconds < 1) throw new SnapshotFormatError(`lease ${id} has a TTL of ${ttlSeconds}`)
    if (this.#leases >= header.leaseCount) throw new SnapshotFormatError(`more than the ${header.leaseCount} leases the header announced`)
    this.#store.leasePut(leaseId(id), ttlSeconds)
    this.#leases += 1
  }

  #readEnd(bytes: Buffer): void {
    const header = this.#header!
    if (bytes.length !== endBytes) throw new SnapshotFormatError(`an end chunk of ${bytes.length} bytes`)
    const reader = new Reader(bytes, 1)
    const chunks = reader.integer('chunk count')
    const checksum = reader.u32()
    if (chunks !== this.#chunks) throw new SnapshotFormatError(`the end names ${chunks} chunks, ${this.#chunks} arrived`)
    if (checksum !== this.#checksum) throw new SnapshotFormatError('the checksum does not match: the snapshot is corrupt')
    const arrived = `${this.#keys.length} keys, ${this.#records.idempotency} + ${this.#records.request} records, ${this.#leases} leases`
    const announced = `${header.dataCount} keys, ${header.recordCounts.idempotency} + ${header.recordCounts.request} records, ${header.leaseCount} leases`
    if (arrived !== announced) throw new SnapshotFormatError(`${arrived} arrived, the header announced ${announced}`)
    this.#store.loadSorted(this.#keys, this.#entries)
    const orphaned = this.#store.orphanedLeases()
    if (orphaned.length > 0) throw new SnapshotFormatError(`keys are attached to lease ${orphaned[0]}, which the snapshot does not hold`)
    this.#store.setPosition(header.appliedIndex, header.revision)
    this.#store.setLeaseEpoch(header.leaseEpoch)
    if (this.#configs !== null) {
      if (this.#configs.some((config) => config.slot > header.appliedIndex)) throw new SnapshotFormatError(`a configuration chosen after the snapshot's applied index ${header.appliedIndex}`)
      this.#store.setConfigs(this.#configs)
    }
    this.#ended = true
  }
}

function readHeader(bytes: Buffer): Header {
  if (bytes.length < 1 + magic.length + 2 || !bytes.subarray(1, 1 + magic.length).equals(magic)) throw new SnapshotFormatError('not a paxos-kv snapshot (bad magic)')
  const reader = new Reader(bytes, 1 + magic.length)
  const format = reader.u16()
  if (format === 1) throw new SnapshotTooOldError(format)
  if (format < 2 || format > snapshotFormatVersion) throw new SnapshotFormatError(`snapshot format ${format}; this build reads 2 to ${snapshotFormatVersion}`)
  if (bytes.length !== headerBytesOf(format)) throw new SnapshotFormatError(`a header of ${bytes.length} bytes`)
  return {
    appliedIndex: slot(reader.integer('applied index')),
    revision: revision(reader.integer('revision')),
    dataCount: reader.integer('key count'),
    recordCounts: { idempotency: reader.integer('idempotency record count'), request: reader.integer('request record count') },
    leaseCount: format >= 3 ? reader.integer('lease count') : 0,
    leaseEpoch: format >= 6 ? readLeaseEpoch(reader) : ballotZero,
  }
}

/** A leader's ballot (round 1 on, a member's id), or ballot zero: no marker applied yet. */
function readLeaseEpoch(reader: Reader): Ballot {
  const round = reader.integer('lease epoch round')
  const node = reader.integer('lease epoch node')
  if (round === 0 && node === 0) return ballotZero
  if (round < 1 || node < 1 || node > coreLimits.nodesMax) throw new SnapshotFormatError(`a lease epoch of ballot ${round}.${node}`)
  return { round, node: nodeId(node) }
}

/** A grant's record: its TTL in the revision field, its id after the (zero) deleted byte. */
function readLeaseGrant(reader: Reader, ttlSeconds: number, deleted: number): ApplyResult {
  const length = reader.u8()
  const id = length === 0 || length > leaseBytesMax ? null : reader.text(length)
  if (id === null || !isLeaseId(id) || deleted !== 0 || ttlSeconds < 1) throw new SnapshotFormatError('a lease grant record with an invalid id or TTL')
  return { type: 'lease_granted', id: leaseId(id), ttlSeconds, created: false }
}

/** A revoke's record: its revision, then how many keys it deleted. */
function readLeaseRevoke(reader: Reader, at: number, deleted: number): ApplyResult {
  const keys = reader.integer('keys a revoke deleted')
  if (deleted !== 0 || at < 1) throw new SnapshotFormatError('a lease revoke record with an invalid revision')
  return { type: 'lease_revoked', revision: revision(at), deleted: keys }
}

function readTxnResults(reader: Reader, at: number, revisionMax: number): TxnOpResult[] {
  const count = reader.u8()
  const results: TxnOpResult[] = []
  for (let index = 0; index < count; index += 1) {
    const code = reader.u8()
    const number = reader.integer('txn op result')
    if (code === txnOpCodes.put && number === at && number >= 1) results.push({ type: 'put', revision: revision(number) })
    else if (code === txnOpCodes.delete) results.push({ type: 'delete', deleted: number })
    else if (code === txnOpCodes.not_kept && number === 0) results.push({ type: 'not_kept' })
    else throw new SnapshotFormatError(`a txn record has an invalid op result (${code}, ${number})`)
  }
  if (at > revisionMax) throw new SnapshotFormatError(`a txn record names revision ${at}, past ${revisionMax}`)
  return results
}

function toResult(code: number, at: number, deleted: number, key: string): ApplyResult {
  if (code === resultCodes.written && at >= 1 && deleted <= 2) {
    return { type: 'written', revision: revision(at), deleted: deleted === 0 ? null : deleted === 2 }
  }
  if (code === resultCodes.cas_mismatch && deleted === 0) return { type: 'cas_mismatch', revision: revision(at) }
  if (code === resultCodes.quota_exceeded && at === 0 && deleted === 0) return { type: 'quota_exceeded' }
  if (code === resultCodes.lease_not_found && at === 0 && deleted === 0) return { type: 'lease_not_found' }
  if (code === resultCodes.lease_limit && at === 0 && deleted === 0) return { type: 'lease_limit' }
  throw new SnapshotFormatError(`record ${JSON.stringify(key)} has an invalid result (${code}, ${at}, ${deleted})`)
}

/** Bounds-checked reads: running past the end is a format error, not a RangeError. */
class Reader {
  readonly #bytes: Buffer
  offset: number

  constructor(bytes: Buffer, offset: number) {
    this.#bytes = bytes
    this.offset = offset
  }

  get done(): boolean {
    return this.offset === this.#bytes.length
  }

  u8(): number {
    this.#need(1)
    return this.#bytes.readUInt8(this.offset++)
  }

  u16(): number {
    this.#need(2)
    const value = this.#bytes.readUInt16LE(this.offset)
    this.offset += 2
    return value
  }

  u32(): number {
    this.#need(4)
    const value = this.#bytes.readUInt32LE(this.offset)
    this.offset += 4
    return value
  }

  integer(what: string): number {
    this.#need(8)
    const value = this.#bytes.readDoubleLE(this.offset)
    this.offset += 8
    if (!Number.isSafeInteger(value) || value < 0) throw new SnapshotFormatError(`${what} ${value} is not a non-negative integer`)
    return value
  }

  /** Steps over `length` bytes; returns where they start. */
  skip(length: number): number {
    this.#need(length)
    const start = this.offset
    this.offset += length
    return start
  }

  bytes(length: number): Buffer {
    this.#need(length)
    const value = this.#bytes.subarray(this.offset, this.offset + length)
    this.offset += length
    return value
  }

  key(bytesMax: number): string {
    const length = this.u16()
    if (length === 0 || length > bytesMax) throw new SnapshotFormatError(`a key of ${length} bytes (1..${bytesMax})`)
    return this.text(length)
  }

  text(length: number): string {
    const bytes = this.bytes(length)
    if (!isUtf8(bytes)) throw new SnapshotFormatError('text that is not UTF-8')
    return bytes.toString('utf8')
  }

  #need(length: number): void {
    if (this.offset + length > this.#bytes.length) throw new SnapshotFormatError('a chunk ends in the middle of an item (truncated)')
  }
}
