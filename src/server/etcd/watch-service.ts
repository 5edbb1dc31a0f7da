/**
 * etcd's Watch: one bidirectional stream carries any number of watches (up to a bound), each a
 * cursor into the node's change history, served from any node. Requests (create, cancel,
 * progress) are handled one at a time in arrival order; one pump sends every watch's events
 * with backpressure, so a slow client costs its cursors and nothing else, and a watch whose
 * cursor the history has dropped is cancelled with `compact_revision` (never skipped ahead).
 *
 * As etcd: the created response comes first; events of revisions applied before the create
 * come batched (up to etcdWatchBatchRevisionsMax revisions a response), later ones one
 * response per revision; a start below the history answers compact_revision and cancels; a
 * progress request is answered (watch_id -1) once every watch has sent all it has; a watch with
 * progress_notify hears the revision after a quiet watchProgressMs. A header's revision is the
 * revision the watch has sent everything through, so a client that resumes after it misses
 * nothing. A create without start_revision starts after a read barrier: it misses no write
 * acknowledged before it. A leader change or a stop ends the stream UNAVAILABLE (clients resume).
 * @module
 */
import { revision, type Revision } from '../../core/ids.js'
import { limits } from '../../core/limits.js'
import type { WatchHandle } from '../node-service.js'
import type { RevisionChanges } from '../../kv/change-history.js'
import { watchStartAfter } from '../watch-start.js'
import { responseHeader, type EtcdDeps } from './context.js'
import { EtcdError } from './etcd-errors.js'
import { int64 } from './integers.js'
import type { WatchCreateRequest, WatchEvent, WatchRequest, WatchResponse } from './messages.js'
import type { StreamCall, StreamHandlers, StreamRun } from './stream-call.js'
import { fragments, selects, watchEvent, watchSelector, type WatchSelector } from './watch-events.js'

/** A create refused with etcd's own reason (not an etcd error status: the stream goes on). */
class WatchRefusal extends Error {
  override name = 'WatchRefusal'
}

type Watch = {
  readonly id: string
  readonly selector: WatchSelector
  readonly progressNotify: boolean
  readonly fragment: boolean
  /** The next revision to read. */
  next: Revision
  /** Revisions through this one were applied before the create: their events come batched. */
  readonly batchThrough: Revision
  /** When this watch last sent anything (for progress_notify). */
  sentAtMs: number
  /** Cancelled for a compacted start: it sends nothing more, but keeps its id until cancelled (as etcd's). */
  compacted: boolean
}

export function watchCall(deps: EtcdDeps): StreamRun {
  return (call) => new WatchStream(deps, call).handlers
}

class WatchStream {
  readonly #deps: EtcdDeps
  readonly #call: StreamCall
  readonly #handle: WatchHandle | null
  readonly #watches = new Map<string, Watch>()
  /** Handles opened for creates waiting on a read barrier, closed with the stream. */
  readonly #starting = new Set<WatchHandle>()
  #requests: Promise<void> = Promise.resolve()
  #requestsQueued = 0
  #nextId = 0
  #progressWanted = false

  constructor(deps: EtcdDeps, call: StreamCall) {
    this.#deps = deps
    this.#call = call
    this.#handle = deps.node.openWatch()
    if (this.#handle === null) {
      call.end(new EtcdError('overloaded', `at most ${limits.watchersMax} watch streams per member`))
      return
    }
    void this.#pump().catch((error: unknown) => call.fail(error))
  }

  get handlers(): StreamHandlers {
    return { request: (message: WatchRequest) => this.#queue(message), closed: () => this.#closed() }
  }

  #queue(request: WatchRequest): void {
    if (this.#requestsQueued >= limits.etcdStreamRequestsQueuedMax) {
      this.#call.end(new EtcdError('stream_overrun', `more than ${limits.etcdStreamRequestsQueuedMax} watch requests waiting`))
      return
    }
    this.#requestsQueued += 1
    this.#requests = this.#requests
      .then(() => this.#serve(request))
      .catch((error: unknown) => this.#call.fail(error))
      .finally(() => (this.#requestsQueued -= 1))
  }

  async #serve(request: WatchRequest): Promise<void> {
    if (this.#call.ended) return
    switch (request.request_union) {
      case 'create_request':
        return this.#create(request.create_request!)
      case 'cancel_request':
        return this.#cancel(int64(request.cancel_request!.watch_id, 'watch_id'))
      case 'progress_request':
        this.#progressWanted = true
        this.#handle?.wake()
        return
      default:
        return // etcd ignores a request without a kind
    }
  }

  async #create(create: WatchCreateRequest): Promise<void> {
    let selector: WatchSelector
    let id: string
    try {
      selector = watchSelector(create)
      id = this.#idFor(int64(create.watch_id, 'watch_id'))
    } catch (error) {
      if (!(error instanceof EtcdError || error instanceof WatchRefusal)) throw error
      // As etcd answers a create it cannot serve: created and canceled at once, with the reason.
      return this.#call.send(this.#response('-1', this.#deps.node.revision(), { created: true, canceled: true, cancel_reason: error.message }))
    }
    const startRevision = int64(create.start_revision, 'start_revision')
    let next: Revision
    let batchThrough: Revision
    if (startRevision > 0) {
      next = revision(startRevision)
      batchThrough = this.#deps.node.revision()
    } else {
      const after = await this.#startAfter()
      if (after === null) return
      next = revision(after + 1)
      batchThrough = after
    }
    // The created answer's revision: what the watch has sent everything through (nothing it
    // watches comes before its start). Not this node's revision: a lagging node's would move a
    // client that resumes here back, and it would get events it already has a second time.
    const createdAt = revision(next - 1)
    await this.#call.send(this.#response(id, createdAt, { created: true }))
    if (this.#call.ended) return
    this.#watches.set(id, { id, selector, progressNotify: create.progress_notify, fragment: create.fragment, next, batchThrough, sentAtMs: this.#deps.node.nowMs(), compacted: false })
    this.#handle!.wake()
  }

  /** etcd's ids: a client's own, unless taken; else the next free one from 0. */
  #idFor(requested: number): string {
    if (this.#watches.size >= limits.etcdWatchesPerStreamMax) throw new WatchRefusal(`paxos-kv: at most ${limits.etcdWatchesPerStreamMax} watches on one stream`)
    if (requested !== 0) {
      if (this.#watches.has(String(requested))) throw new WatchRefusal('mvcc: duplicate watch ID provided on the WatchStream')
      return String(requested)
    }
    while (this.#watches.has(String(this.#nextId))) this.#nextId += 1
    const id = String(this.#nextId)
    this.#nextId += 1
    return id
  }

  /** The revision a watch without start_revision starts after; null when the stream ended. */
  async #startAfter(): Promise<Revision | null> {
    const waiting = this.#deps.node.openWatch()
    if (waiting === null) {
      this.#call.end(new EtcdError('overloaded', `at most ${limits.watchersMax} watch streams per member`))
      return null
    }
    this.#starting.add(waiting)
    try {
      const start = await watchStartAfter(this.#deps.node, waiting, this.#deps.requestTimeoutMs)
      if (start.type === 'unavailable') {
        this.#call.end(new EtcdError('timeout', start.reason))
        return null
      }
      return this.#call.ended ? null : start.revision
    } finally {
      this.#starting.delete(waiting)
      waiting.close()
    }
  }

  async #cancel(id: number): Promise<void> {
    const key = String(id)
    if (!this.#watches.delete(key)) return // etcd answers nothing for a watch it does not have
    await this.#call.send(this.#response(key, this.#deps.node.revision(), { canceled: true }))
  }

  /** Sends every watch's events, then progress, then waits for the next apply (or request). */
  async #pump(): Promise<void> {
    const handle = this.#handle!
    while (!this.#call.ended) {
      let sent = false
      for (const watch of [...this.#watches.values()]) {
        if (this.#watches.get(watch.id) === watch && !watch.compacted) sent = (await this.#deliver(watch)) || sent
        if (this.#call.ended) return
      }
      if (sent) continue
      const waitMs = await this.#progress()
      if ((await handle.next(waitMs)) === 'closed') {
        this.#call.end(new EtcdError('stream_closed', 'a leader change or a stop ends watch streams: resume after the last revision seen'))
        return
      }
    }
  }

  /** One read of the watch's next revisions; whether it moved (sent, skipped or was cancelled). */
  async #deliver(watch: Watch): Promise<boolean> {
    const batching = watch.next <= watch.batchThrough
    const read = this.#deps.node.watchHistory().read(watch.next, batching ? limits.etcdWatchBatchRevisionsMax : limits.watchReadRevisionsMax)
    if (read.type === 'compacted') {
      watch.compacted = true
      // etcd's answer for a compacted start: canceled, with the oldest revision still served, header revision 0.
      await this.#call.send(this.#response(watch.id, revision(0), { compact_revision: String(read.compactRevision), canceled: true }))
      return true
    }
    if (batching) return this.#deliverBatch(watch, read.entries, read.more)
    if (read.entries.length === 0) return false
    for (const entry of read.entries) {
      const events = this.#events(watch, [entry])
      watch.next = revision(entry.revision + 1)
      if (events.length > 0) await this.#send(watch, entry.revision, events)
      if (this.#call.ended || this.#watches.get(watch.id) !== watch) break
    }
    return true
  }

  /** The revisions applied before the create, as etcd's catching-up watchers send them: batched. */
  async #deliverBatch(watch: Watch, entries: readonly RevisionChanges[], more: boolean): Promise<boolean> {
    const taken: RevisionChanges[] = []
    let bytes = 0
    let index = 0
    for (; index < entries.length; index += 1) {
      const entry = entries[index]!
      if (entry.revision > watch.batchThrough || (taken.length > 0 && bytes > limits.etcdRangeBytesMax)) break
      taken.push(entry)
      for (const change of entry.changes) bytes += (change.value?.byteLength ?? 0) + (watch.selector.prevKv ? change.prev?.value.byteLength ?? 0 : 0)
    }
    // Caught up once nothing at or before batchThrough is left unread.
    const following = entries[index]
    const caughtUp = following === undefined ? !more : following.revision > watch.batchThrough
    const through = caughtUp ? watch.batchThrough : taken.at(-1)!.revision
    const events = this.#events(watch, taken)
    watch.next = revision(through + 1)
    if (events.length > 0) await this.#send(watch, through, events)
    return true
  }

  #events(watch: Watch, entries: readonly RevisionChanges[]): WatchEvent[] {
    const events: WatchEvent[] = []
    for (const entry of entries) {
      for (const change of entry.changes) if (selects(watch.selector, change)) events.push(watchEvent(entry.revision, change, watch.selector.prevKv))
    }
    return events
  }

  async #send(watch: Watch, through: Revision, events: readonly WatchEvent[]): Promise<void> {
    watch.sentAtMs = this.#deps.node.nowMs()
    const parts = watch.fragment ? fragments(events, limits.etcdRequestBytesMax) : [events]
    for (const [index, part] of parts.entries()) {
      await this.#call.send(this.#response(watch.id, through, { events: part, ...(index < parts.length - 1 ? { fragment: true } : {}) }))
    }
  }

  /**
   * With every watch caught up: answers a progress request, and tells each quiet progress_notify
   * watch the revision. Returns how long the pump may wait before the next is due.
   */
  async #progress(): Promise<number> {
    const current = this.#deps.node.revision()
    if (this.#progressWanted) {
      this.#progressWanted = false
      await this.#call.send(this.#response('-1', current, {}))
    }
    const now = this.#deps.node.nowMs()
    let waitMs: number = limits.watchProgressMs
    for (const watch of this.#watches.values()) {
      if (!watch.progressNotify || watch.compacted) continue
      const quietMs = now - watch.sentAtMs
      if (quietMs >= limits.watchProgressMs) {
        watch.sentAtMs = now
        // Caught up: through the node's revision, or through the start of a watch from beyond it.
        await this.#call.send(this.#response(watch.id, revision(Math.max(current, watch.next - 1)), {}))
      } else waitMs = Math.min(waitMs, limits.watchProgressMs - quietMs)
    }
    return waitMs
  }

  #response(id: string, at: Revision, fields: Omit<WatchResponse, 'header' | 'watch_id'>): WatchResponse {
    return { header: responseHeader(this.#deps, at), watch_id: id, ...fields }
  }

  #closed(): void {
    this.#watches.clear()
    this.#handle?.close()
    for (const waiting of this.#starting) waiting.close()
  }
}
