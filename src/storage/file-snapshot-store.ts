/**
 * SnapshotStore in files, one per snapshot, in the data directory's `snapshots/`. A snapshot is
 * written to a temporary file, fsynced, renamed into place and the directory fsynced: a crash at
 * any point leaves the old snapshot or the new one, never a torn one (leftover temporary files
 * are deleted at open). Every part is checksummed, and a file that is not a snapshot of this
 * cluster is refused by name.
 *
 * File layout (little-endian; numbers are float64 holding safe integers):
 *   header:  "PXKVSTOR" | u32 format | f64 index | f64 revision | u16 n | cluster id (n bytes) | u32 crc32 of the header
 *   frames:  u32 length (> 0) | chunk | u32 crc32 of the chunk          (one per chunk)
 *   trailer: u32 0 | f64 frame count | u32 crc32 of every byte before it except the frames' crc32s
 * (a CRC followed by the CRC of its own input cancels that input out: the file checksum would be
 * blind to the chunks' contents if it covered their checksums).
 * @module
 */
import { closeSync, fsync as fsyncCallback, openSync, readdirSync, readSync, renameSync, rmSync, statSync, writeSync, constants } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { crc32 } from 'node:zlib'
import { assert } from '../core/assert.js'
import { revision as toRevision, slot as toSlot, type Revision, type Slot } from '../core/ids.js'
import { makeDirectory } from './make-directory.js'
import { SnapshotStoreError, type SnapshotMeta, type SnapshotSink, type SnapshotStore } from './snapshot-store.js'

const fsync = promisify(fsyncCallback)
const magic = Buffer.from('PXKVSTOR', 'latin1')
export const snapshotFileFormat = 1
const trailerBytes = 4 + 8 + 4
const namePattern = /^snapshot-(\d{16})\.snap$/
/** A frame longer than this is damage, not data: no chunk is that large. */
const frameBytesMax = 256 * 1024 * 1024

export const snapshotFileName = (index: Slot): string => `snapshot-${String(index).padStart(16, '0')}.snap`

type Header = Readonly<{ index: Slot; revision: Revision; bytes: number }>

export class FileSnapshotStore implements SnapshotStore {
  readonly #dir: string
  readonly #clusterId: string
  #temporaries = 0

  constructor(dir: string, clusterId: string) {
    this.#dir = dir
    this.#clusterId = clusterId
    makeDirectory(dir)
    for (const name of readdirSync(dir)) if (name.includes('.tmp')) rmSync(join(dir, name), { force: true })
  }

  create(index: Slot, revision: Revision): SnapshotSink {
    const newest = this.latest()?.index ?? 0
    assert(index > newest, `a snapshot at ${index} is not newer than the newest, ${newest}`)
    this.#temporaries += 1
    const final = join(this.#dir, snapshotFileName(index))
    const temporary = `${final}.tmp${this.#temporaries}`
    return new FileSink(temporary, final, this.#dir, encodeHeader(index, revision, this.#clusterId), { index, revision })
  }

  latest(): SnapshotMeta | null {
    const newest = this.#names()[0]
    return newest === undefined ? null : this.#meta(newest)
  }

  list(): readonly SnapshotMeta[] {
    return this.#names().map((name) => this.#meta(name))
  }

  indexes(): readonly Slot[] {
    return this.#names().map((name) => toSlot(Number(namePattern.exec(name)![1])))
  }

  *read(meta: Readonly<{ index: Slot }>): Iterable<Uint8Array> {
    const path = join(this.#dir, snapshotFileName(meta.index))
    const fd = openSync(path, constants.O_RDONLY)
    try {
      const file = new FileReader(fd, path)
      const header = this.#header(file.read(file.headerLength()), path)
      let checksum = crc32(file.last)
      assert(header.index === meta.index, `${path} changed under the reader`)
      let frames = 0
      for (;;) {
        const length = file.read(4).readUInt32LE(0)
        checksum = crc32(file.last, checksum)
        if (length === 0) break
        if (length > frameBytesMax) throw corrupt(path, `a frame of ${length} bytes`)
        const chunk = Buffer.from(file.read(length))
        checksum = crc32(chunk, checksum)
        const sum = file.read(4)
        if (sum.readUInt32LE(0) !== crc32(chunk)) throw corrupt(path, `frame ${frames + 1} fails its checksum`)
        frames += 1
        yield chunk
      }
      const count = file.read(8)
      checksum = crc32(count, checksum)
      const total = file.read(4).readUInt32LE(0)
      if (count.readDoubleLE(0) !== frames) throw corrupt(path, `the trailer names ${count.readDoubleLE(0)} frames, the file has ${frames}`)
      if (total !== checksum) throw corrupt(path, 'the file checksum does not match')
      if (!file.atEnd()) throw corrupt(path, 'bytes after the trailer')
    } finally {
      closeSync(fd)
    }
  }

  prune(keep: number): void {
    assert(Number.isSafeInteger(keep) && keep >= 1, `cannot keep ${keep} snapshots`)
    for (const name of this.#names().slice(keep)) rmSync(join(this.#dir, name), { force: true })
  }

  setAside(index: Slot): void {
    const path = join(this.#dir, snapshotFileName(index))
    renameSync(path, `${path}.damaged`)
  }

  /** Snapshot file names, newest first; the name's index sorts them (zero-padded). */
  #names(): string[] {
    return readdirSync(this.#dir).filter((name) => namePattern.test(name)).sort().reverse()
  }

  /** Header and trailer only; `read` checks every byte. */
  #meta(name: string): SnapshotMeta {
    const path = join(this.#dir, name)
    const fd = openSync(path, constants.O_RDONLY)
    try {
      const file = new FileReader(fd, path)
      const header = this.#header(file.read(file.headerLength()), path)
      if (snapshotFileName(header.index) !== name) throw new SnapshotStoreError('foreign', `${path} holds the snapshot at ${header.index}: it was renamed`)
      const size = statSync(path).size
      const trailer = Buffer.alloc(trailerBytes)
      if (size < header.bytes + trailerBytes || readSync(fd, trailer, 0, trailerBytes, size - trailerBytes) !== trailerBytes) throw corrupt(path, 'no trailer (truncated)')
      if (trailer.readUInt32LE(0) !== 0) throw corrupt(path, 'no trailer (truncated)')
      const checksum = trailer.readUInt32LE(12).toString(16).padStart(8, '0')
      return { index: header.index, revision: header.revision, sizeBytes: size, checksum }
    } finally {
      closeSync(fd)
    }
  }

  #header(bytes: Buffer, path: string): Header {
    if (!bytes.subarray(0, magic.length).equals(magic)) throw new SnapshotStoreError('foreign', `${path} is not a paxos-kv snapshot`)
    const format = bytes.readUInt32LE(8)
    if (format > snapshotFileFormat) throw new SnapshotStoreError('newer_format', `${path} has snapshot format ${format}, newer than this build's ${snapshotFileFormat}`)
    if (format !== snapshotFileFormat) throw corrupt(path, `unknown snapshot format ${format}`)
    const end = bytes.length - 4
    if (bytes.readUInt32LE(end) !== crc32(bytes.subarray(0, end))) throw corrupt(path, 'the header fails its checksum')
    const index = bytes.readDoubleLE(12)
    const revision = bytes.readDoubleLE(20)
    if (!Number.isSafeInteger(index) || index < 1 || !Number.isSafeInteger(revision) || revision < 0) throw corrupt(path, `a header with index ${index} and revision ${revision}`)
    const clusterId = bytes.subarray(30, end).toString('utf8')
    if (clusterId !== this.#clusterId) throw new SnapshotStoreError('foreign', `${path} belongs to cluster ${clusterId}, not ${this.#clusterId}`)
    return { index: toSlot(index), revision: toRevision(revision), bytes: bytes.length }
  }
}

function encodeHeader(index: Slot, revision: Revision, clusterId: string): Buffer {
  const id = Buffer.from(clusterId, 'utf8')
  assert(id.length <= 0xffff, 'cluster id too long for a snapshot header')
  const header = Buffer.alloc(magic.length + 4 + 8 + 8 + 2 + id.length + 4)
  magic.copy(header, 0)
  header.writeUInt32LE(snapshotFileFormat, 8)
  header.writeDoubleLE(index, 12)
  header.writeDoubleLE(revision, 20)
  header.writeUInt16LE(id.length, 28)
  id.copy(header, 30)
  header.writeUInt32LE(crc32(header.subarray(0, header.length - 4)), header.length - 4)
  return header
}

function corrupt(path: string, why: string): SnapshotStoreError {
  return new SnapshotStoreError('corrupt', `${path} is corrupt: ${why}`)
}

/** Sequential reads; a short read is a truncated file. `last` is the buffer the last read filled. */
class FileReader {
  readonly #fd: number
  readonly #path: string
  #position = 0
  last: Buffer = Buffer.alloc(0)

  constructor(fd: number, path: string) {
    this.#fd = fd
    this.#path = path
  }

  /** The header's length, from its cluster-id length field (magic, format, index, revision come first). */
  headerLength(): number {
    const prefix = Buffer.alloc(30)
    if (readSync(this.#fd, prefix, 0, prefix.length, 0) !== prefix.length) throw corrupt(this.#path, 'no header (truncated)')
    if (!prefix.subarray(0, magic.length).equals(magic)) throw new SnapshotStoreError('foreign', `${this.#path} is not a paxos-kv snapshot`)
    return 30 + prefix.readUInt16LE(28) + 4
  }

  read(length: number): Buffer {
    const buffer = Buffer.allocUnsafe(length)
    let filled = 0
    while (filled < length) {
      const got = readSync(this.#fd, buffer, filled, length - filled, this.#position + filled)
      if (got === 0) throw corrupt(this.#path, 'it ends early (truncated)')
      filled += got
    }
    this.#position += length
    this.last = buffer
    return buffer
  }

  atEnd(): boolean {
    return readSync(this.#fd, Buffer.alloc(1), 0, 1, this.#position) === 0
  }
}

/** Writes go to the page cache (bounded: one chunk); the fsyncs run on libuv's thread pool. */
class FileSink implements SnapshotSink {
  readonly #temporary: string
  readonly #final: string
  readonly #dir: string
  readonly #covers: Readonly<{ index: Slot; revision: Revision }>
  #fd: number | null
  #checksum: number
  #frames = 0
  #bytes: number
  #state: 'open' | 'committing' | 'done' = 'open'

  constructor(temporary: string, final: string, dir: string, header: Buffer, covers: Readonly<{ index: Slot; revision: Revision }>) {
    this.#temporary = temporary
    this.#final = final
    this.#dir = dir
    this.#covers = covers
    this.#fd = openSync(temporary, 'wx')
    writeAll(this.#fd, header)
    this.#checksum = crc32(header)
    this.#bytes = header.length
  }

  write(chunk: Uint8Array): void {
    assert(this.#state === 'open' && this.#fd !== null, `write to a ${this.#state} snapshot`)
    assert(chunk.byteLength > 0 && chunk.byteLength <= frameBytesMax, `a snapshot chunk of ${chunk.byteLength} bytes`)
    const frame = Buffer.allocUnsafe(4 + chunk.byteLength + 4)
    frame.writeUInt32LE(chunk.byteLength, 0)
    frame.set(chunk, 4)
    frame.writeUInt32LE(crc32(chunk), 4 + chunk.byteLength)
    writeAll(this.#fd, frame)
    this.#checksum = crc32(frame.subarray(0, 4 + chunk.byteLength), this.#checksum)
    this.#frames += 1
    this.#bytes += frame.length
  }

  async commit(): Promise<SnapshotMeta> {
    assert(this.#state === 'open' && this.#fd !== null, `commit of a ${this.#state} snapshot`)
    this.#state = 'committing'
    const fd = this.#fd
    const trailer = Buffer.alloc(trailerBytes)
    trailer.writeDoubleLE(this.#frames, 4)
    const checksum = crc32(trailer.subarray(0, 12), this.#checksum)
    trailer.writeUInt32LE(checksum, 12)
    writeAll(fd, trailer)
    try {
      await fsync(fd)
    } finally {
      closeSync(fd)
      this.#fd = null
    }
    renameSync(this.#temporary, this.#final)
    await syncDirectory(this.#dir)
    this.#state = 'done'
    return { ...this.#covers, sizeBytes: this.#bytes + trailerBytes, checksum: checksum.toString(16).padStart(8, '0') }
  }

  abort(): void {
    if (this.#state !== 'open') return
    this.#state = 'done'
    if (this.#fd !== null) closeSync(this.#fd)
    this.#fd = null
    rmSync(this.#temporary, { force: true })
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  let written = 0
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
}

/** The rename is durable only once the directory entry is. */
async function syncDirectory(dir: string): Promise<void> {
  const fd = openSync(dir, constants.O_RDONLY)
  try {
    await fsync(fd)
  } finally {
    closeSync(fd)
  }
}

