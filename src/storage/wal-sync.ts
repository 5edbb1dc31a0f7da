/**
 * Group commit off the event loop. Turns commit to the WAL without syncing (synchronous =
 * NORMAL); whoever needs a commit on disk before speaking waits in `whenSynced`. One
 * fdatasync of the WAL file, on libuv's thread pool, then releases every waiter that was there
 * when it started, in order; waiters that came meanwhile get the next one. The event loop keeps
 * serving clients and committing turns while the disk works.
 *
 * Why this is as strong as synchronous = FULL: a committed transaction's WAL frames are in the
 * file (written, not yet synced) when COMMIT returns; fdatasync makes them durable, and with
 * them every earlier commit. SQLite itself syncs the WAL before each checkpoint copies it into
 * the database (NORMAL does that), and an exclusive-mode connection keeps the same WAL file (one
 * inode) open for its whole life, so the descriptor opened here stays the right one.
 * @module
 */
import { closeSync, fdatasync, fsyncSync, openSync, constants } from 'node:fs'
import { dirname } from 'node:path'
import { assert } from '../core/assert.js'

type Waiter = Readonly<{ commit: number; release: () => void }>

export type WalSyncOptions = Readonly<{
  walPath: string
  /** A failed fsync leaves the disk in an unknown state: never retry it, stop the process. */
  onError: (error: Error) => void
  onSynced?: (durationMs: number) => void
  nowMs: () => number
}>

export class WalSync {
  readonly #options: WalSyncOptions
  #fd: number | null = null
  #committed = 0
  #synced = 0
  #syncing = false
  #closed = false
  #waiters: Waiter[] = []
  #syncs = 0

  constructor(options: WalSyncOptions) {
    this.#options = options
  }

  /** Call after each commit: the commits a later sync must cover. */
  committed(): void {
    this.#committed += 1
  }

  /** Runs `release` once every commit so far is on disk: at once if nothing is pending. */
  whenSynced(release: () => void): void {
    if (this.#synced >= this.#committed) return release()
    this.#waiters.push({ commit: this.#committed, release })
    this.#startSync()
  }

  /** fdatasync calls made so far. */
  get syncs(): number {
    return this.#syncs
  }

  /** Stops: waiters not yet released are dropped (the node is stopping). */
  close(): void {
    this.#closed = true
    this.#waiters = []
    if (!this.#syncing) this.#closeFd()
  }

  #startSync(): void {
    if (this.#syncing || this.#closed || this.#waiters.length === 0) return
    const fd = this.#open()
    const target = this.#committed
    const started = this.#options.nowMs()
    this.#syncing = true
    this.#syncs += 1
    fdatasync(fd, (error) => {
      this.#syncing = false
      if (this.#closed) return this.#closeFd()
      if (error !== null) return this.#options.onError(error)
      this.#options.onSynced?.(this.#options.nowMs() - started)
      this.#synced = target
      let released = 0
      while (released < this.#waiters.length && this.#waiters[released]!.commit <= target) released += 1
      const ready = this.#waiters.splice(0, released)
      for (const waiter of ready) waiter.release()
      this.#startSync()
    })
  }

  #closeFd(): void {
    if (this.#fd !== null) closeSync(this.#fd)
    this.#fd = null
  }

  /**
   * The WAL exists once something was committed. Its directory entry is synced once, as SQLite
   * does for a new journal, so the file itself survives a crash.
   */
  #open(): number {
    if (this.#fd !== null) return this.#fd
    assert(this.#committed > 0, 'a WAL sync before any commit')
    this.#fd = openSync(this.#options.walPath, constants.O_RDONLY)
    const dir = openSync(dirname(this.#options.walPath), constants.O_RDONLY)
    try {
      fsyncSync(dir)
    } finally {
      closeSync(dir)
    }
    return this.#fd
  }
}
