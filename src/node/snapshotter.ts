/**
 * Takes a snapshot of the state machine when the core's Ready says so (`take`, every
 * `--snapshot-every-slots` applied slots) and writes it to the snapshot store without stalling
 * the event loop: the point-in-time view is O(1), then one chunk
 * is encoded and written per event-loop turn (setImmediate), so client requests and peer
 * messages run between chunks; the fsyncs run on libuv's thread pool.
 *
 * Ordering: a snapshot covering slot S is written only after the WAL sync that covers the turn
 * that applied S. So whenever a snapshot is on disk, the log through S is too (and the log is
 * never truncated here): restart = newest snapshot + replay of the chosen log after it.
 * @module
 */
import type { Slot } from '../core/ids.js'
import type { Snapshot, StateMachine } from '../kv/state-machine.js'
import type { SnapshotMeta, SnapshotSink, SnapshotStore } from '../storage/snapshot-store.js'

export type SnapshotWritten = Readonly<{
  meta: SnapshotMeta
  chunks: number
  /** From taking the view to the durable rename. */
  durationMs: number
  /** The longest synchronous slice (encode + write one chunk): the worst stall it caused. */
  longestSliceMs: number
}>

export type SnapshotterOptions = Readonly<{
  stateMachine: StateMachine
  store: SnapshotStore
  retain: number
  /** Runs `release` once every commit so far is on disk. */
  whenSynced: (release: () => void) => void
  nowMs: () => number
  onWritten: (written: SnapshotWritten) => void
  onFailed: (error: unknown) => void
}>

export class Snapshotter {
  readonly #options: SnapshotterOptions
  /** The newest durable snapshot's index (or the one being written). */
  #coveredThrough: Slot
  #writing: { sink: SnapshotSink | null } | null = null
  #stopped = false
  /** A take came while a write was under way: take again once it is done. */
  #wanted = false

  constructor(options: SnapshotterOptions, coveredThrough: Slot) {
    this.#options = options
    this.#coveredThrough = coveredThrough
  }

  get writing(): boolean {
    return this.#writing !== null
  }

  /**
   * A peer's snapshot through `index` is durable in the store (about to be installed): the next
   * one this node takes must be newer. A write under way for an older slot may still finish.
   */
  coveredBy(index: Slot): void {
    if (index > this.#coveredThrough) this.#coveredThrough = index
  }

  /**
   * Takes a snapshot now: the view is taken at once (it matches the applied index between
   * turns), the write starts after the turn that applied it has committed and its WAL sync has
   * run. While a write is under way, the take waits for it and then sees a newer state.
   */
  take(): void {
    if (this.#stopped) return
    if (this.#writing !== null) {
      this.#wanted = true
      return
    }
    const snapshot = this.#options.stateMachine.snapshot()
    if (snapshot.appliedIndex <= this.#coveredThrough) return
    const writing = { sink: null as SnapshotSink | null }
    this.#writing = writing
    const started = this.#options.nowMs()
    // setImmediate: the turn that applied the snapshot's last slot has not committed yet.
    setImmediate(() => this.#options.whenSynced(() => this.#write(snapshot, writing, started)))
  }

  /** Abandons a write in progress (the temporary file is removed). */
  stop(): void {
    this.#stopped = true
    this.#writing?.sink?.abort()
    this.#writing = null
  }

  #write(snapshot: Snapshot, writing: { sink: SnapshotSink | null }, started: number): void {
    if (this.#writing !== writing) return
    let sink: SnapshotSink
    try {
      sink = this.#options.store.create(snapshot.appliedIndex, snapshot.revision)
    } catch (error) {
      return this.#fail(writing, error)
    }
    writing.sink = sink
    const chunks = snapshot.chunks()[Symbol.iterator]()
    let count = 0
    let longestSliceMs = 0
    const step = (): void => {
      if (this.#writing !== writing) return
      const sliceStarted = this.#options.nowMs()
      try {
        const next = chunks.next()
        if (!next.done) {
          sink.write(next.value)
          count += 1
        }
        longestSliceMs = Math.max(longestSliceMs, this.#options.nowMs() - sliceStarted)
        if (!next.done) return void setImmediate(step)
      } catch (error) {
        sink.abort()
        return this.#fail(writing, error)
      }
      sink.commit().then(
        (meta) => {
          if (this.#writing !== writing) return
          this.#writing = null
          this.#coveredThrough = meta.index
          try {
            this.#options.store.prune(this.#options.retain)
          } catch (error) {
            this.#options.onFailed(error) // the new snapshot is durable; an old file stays behind
          }
          this.#options.onWritten({ meta, chunks: count, durationMs: this.#options.nowMs() - started, longestSliceMs })
          if (this.#wanted) {
            this.#wanted = false
            this.take()
          }
        },
        (error: unknown) => this.#fail(writing, error),
      )
    }
    step()
  }

  #fail(writing: { sink: SnapshotSink | null }, error: unknown): void {
    if (this.#writing !== writing) return
    this.#writing = null
    // The next take comes with the next interval of slots: a failing disk is not retried in a loop.
    this.#wanted = false
    this.#options.onFailed(error)
  }
}
