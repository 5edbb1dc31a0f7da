/**
 * Goal: the file SnapshotStore meets the contract, and refuses what it did not write whole:
 * a truncated, bit-flipped, renamed or foreign file is a SnapshotStoreError naming the file,
 * wherever in the file the damage is; leftovers of a crash mid-write are ignored and removed.
 * Method: the shared suite on temp dirs, then files damaged by hand.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { revision, slot } from '../../src/core/index.js'
import { FileSnapshotStore, snapshotFileName } from '../../src/storage/file-snapshot-store.js'
import { SnapshotStoreError } from '../../src/storage/snapshot-store.js'
import { runSnapshotStoreContract } from './snapshot-store-contract.js'

const freshDir = () => mkdtempSync(join(tmpdir(), 'paxos-kv-snapshots-'))

runSnapshotStoreContract('file', () => {
  const dir = freshDir()
  return { store: new FileSnapshotStore(dir, 'alpha'), reopen: () => new FileSnapshotStore(dir, 'alpha') }
})

describe('file snapshot store: damage is refused', () => {
  async function written(): Promise<{ dir: string; path: string }> {
    const dir = freshDir()
    const sink = new FileSnapshotStore(dir, 'alpha').create(slot(9), revision(90))
    for (const part of ['first chunk', 'second chunk', 'third']) sink.write(new Uint8Array(Buffer.from(part)))
    await sink.commit()
    return { dir, path: join(dir, snapshotFileName(slot(9))) }
  }
  const readAll = (dir: string, clusterId = 'alpha') => {
    const store = new FileSnapshotStore(dir, clusterId)
    return [...store.read(store.latest()!)]
  }
  function refusal(run: () => unknown): SnapshotStoreError {
    try {
      run()
    } catch (error) {
      expect(error).toBeInstanceOf(SnapshotStoreError)
      return error as SnapshotStoreError
    }
    throw new Error('not refused')
  }

  it('reads back an intact file', async () => {
    const { dir } = await written()
    expect(readAll(dir).map((bytes) => Buffer.from(bytes).toString())).toEqual(['first chunk', 'second chunk', 'third'])
  })

  it('refuses a flipped byte anywhere: header, frame length, chunk, checksum, trailer', async () => {
    const { path } = await written()
    const size = readFileSync(path).length
    for (let at = 0; at < size; at += 1) {
      const { dir, path: copy } = await written()
      const bytes = readFileSync(copy)
      bytes[at] = bytes[at]! ^ 0x40
      writeFileSync(copy, bytes)
      const error = refusal(() => readAll(dir))
      expect(error.message, `byte ${at}`).toContain(copy)
    }
  })

  it('refuses a file cut short at any length', async () => {
    const { path } = await written()
    const size = readFileSync(path).length
    for (let length = 0; length < size; length += 3) {
      const { dir, path: copy } = await written()
      truncateSync(copy, length)
      expect(refusal(() => readAll(dir)).code, `length ${length}`).toMatch(/corrupt|foreign/)
    }
  })

  it("refuses another cluster's snapshot, a renamed one and a file that is no snapshot", async () => {
    const { dir, path } = await written()
    expect(refusal(() => readAll(dir, 'beta'))).toMatchObject({ code: 'foreign', message: expect.stringContaining('cluster alpha') })
    renameSync(path, join(dir, snapshotFileName(slot(10))))
    expect(refusal(() => readAll(dir)).code).toBe('foreign')
    const other = freshDir()
    writeFileSync(join(other, snapshotFileName(slot(3))), 'not a snapshot at all, just some text')
    expect(refusal(() => readAll(other)).code).toBe('foreign')
  })

  it('ignores and removes the temporary file of a write that never committed', async () => {
    const dir = freshDir()
    const store = new FileSnapshotStore(dir, 'alpha')
    const sink = store.create(slot(4), revision(4))
    sink.write(new Uint8Array([1, 2, 3]))
    expect(readdirSync(dir)).toHaveLength(1) // the temporary, as a crash would leave it
    expect(store.latest()).toBeNull()
    const reopened = new FileSnapshotStore(dir, 'alpha')
    expect(reopened.latest()).toBeNull()
    expect(readdirSync(dir)).toEqual([])
    expect(existsSync(join(dir, snapshotFileName(slot(4))))).toBe(false)
  })
})
