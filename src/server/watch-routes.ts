/**
 * GET /v1/watch?key=K | ?prefix=P [&fromRevision=R] [&progressMs=MS]: Server-Sent Events, one
 * `change` event per revision that touched a watched key (id = the revision), in revision order
 * with no gap and no repeat, read from the node's change history at the stream's own pace; a
 * `progress` event when nothing came for progressMs. A stream that falls behind what the history
 * keeps is closed (the client resumes with Last-Event-ID and learns 410 if that is gone), never
 * skipped ahead. Any node serves watches; without fromRevision a watch starts after the leader's
 * revision at a read barrier, so it misses no write acknowledged before it was answered.
 * @module
 */
import type { Context, Hono } from 'hono'
import { z } from 'zod'
import { revision, type Revision } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { Change, RevisionChanges } from '../kv/change-history.js'
import type { NodeService, WatchHandle } from './node-service.js'
import type { ClientRouteOptions } from './consensus-calls.js'
import { ApiError } from './errors.js'
import { checkKey } from './validate.js'
import { watchStartAfter } from './watch-start.js'

const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }
const revisionText = z.string().regex(/^\d{1,16}$/).transform(Number).pipe(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER))
const querySchema = z.strictObject({
  key: z.string().optional(),
  prefix: z.string().optional(),
  fromRevision: revisionText.optional(),
  progressMs: z.string().regex(/^\d{1,7}$/).transform(Number).pipe(z.number().int().min(100).max(600_000)).optional(),
})

type WatchTarget = Readonly<{ matches: (key: string) => boolean; from: Revision | null; progressMs: number }>

function parseTarget(c: Context): WatchTarget {
  const parsed = querySchema.safeParse(c.req.query())
  if (!parsed.success) throw new ApiError('bad_request', `bad watch query: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`.trim())
  const { key, prefix, fromRevision, progressMs } = parsed.data
  if ((key === undefined) === (prefix === undefined)) throw new ApiError('bad_request', 'a watch names exactly one of key or prefix')
  if (key !== undefined) checkKey(key, 'key')
  if (prefix !== undefined && (Buffer.byteLength(prefix) > limits.keyBytesMax || prefix.includes('\u0000'))) throw new ApiError('bad_request', 'prefix is longer than a key can be, or has NUL')
  // The standard reconnect: EventSource sends the last id it saw; the stream goes on after it.
  const lastEventId = c.req.header('last-event-id')
  let from: Revision | null = fromRevision === undefined ? null : revision(fromRevision)
  if (from === null && lastEventId !== undefined) {
    const last = revisionText.safeParse(lastEventId)
    if (!last.success) throw new ApiError('bad_request', 'Last-Event-ID must be a revision')
    from = revision(last.data + 1)
  }
  const matches = key !== undefined ? (candidate: string) => candidate === key : (candidate: string) => candidate.startsWith(prefix!)
  return { matches, from, progressMs: progressMs ?? limits.watchProgressMs }
}

function changeJson(change: Change): Record<string, unknown> {
  const value = change.value === null ? {} : { value: Buffer.from(change.value).toString('base64') }
  return { type: change.type, key: change.key, ...value, createRevision: change.createRevision, writes: change.writes, lease: change.lease, prevVersion: change.prev?.version ?? 0 }
}

function changeEvent(entry: RevisionChanges, changes: readonly Change[]): Uint8Array {
  return encoder.encode(`id: ${entry.revision}\nevent: change\ndata: ${JSON.stringify({ revision: entry.revision, changes: changes.map(changeJson) })}\n\n`)
}

const encoder = new TextEncoder()

/**
 * The encoded event of a revision whose changes a watcher all watches, made once per revision and
 * shared by every such stream: with a thousand watchers of one prefix, each revision is encoded
 * once, not once per watcher. Held only as long as the history holds the entry.
 */
const wholeEvents = new WeakMap<RevisionChanges, Uint8Array>()

function eventFor(entry: RevisionChanges, matches: (key: string) => boolean): Uint8Array | null {
  const changes = entry.changes.filter((change) => matches(change.key))
  if (changes.length === 0) return null
  if (changes.length < entry.changes.length) return changeEvent(entry, changes)
  let bytes = wholeEvents.get(entry)
  if (bytes === undefined) {
    bytes = changeEvent(entry, changes)
    wholeEvents.set(entry, bytes)
  }
  return bytes
}

function watchStream(node: NodeService, handle: WatchHandle, target: WatchTarget, start: Revision): Response {
  let next = start
  let sentAtMs = node.nowMs()
  const send = (controller: ReadableStreamDefaultController<Uint8Array>, bytes: Uint8Array): void => {
    sentAtMs = node.nowMs()
    controller.enqueue(bytes)
  }
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode('retry: 1000\n\n'))
    },
    // Pulled: the next events are read only when the client has taken the last ones. A stream
    // that is behind gets up to watchChunkBytesTarget of events in one write, not one per read.
    async pull(controller) {
      for (;;) {
        if (handle.closed) return controller.close()
        const events: Uint8Array[] = []
        let bytes = 0
        let more = true
        while (more && bytes < limits.watchChunkBytesTarget) {
          const read = node.watchHistory().read(next, limits.watchReadRevisionsMax)
          if (read.type === 'compacted') {
            handle.close() // fell behind what the history keeps: end, never skip
            return controller.close()
          }
          for (const entry of read.entries) {
            next = revision(entry.revision + 1)
            const event = eventFor(entry, target.matches)
            if (event === null) continue
            events.push(event)
            bytes += event.byteLength
          }
          more = read.more
        }
        if (events.length > 0) return send(controller, events.length === 1 ? events[0]! : Buffer.concat(events, bytes))
        // Progress when nothing was sent for progressMs, however many unwatched keys changed meanwhile.
        const quietMs = node.nowMs() - sentAtMs
        if (quietMs >= target.progressMs) return send(controller, encoder.encode(`event: progress\ndata: ${JSON.stringify({ revision: node.revision() })}\n\n`))
        if ((await handle.next(target.progressMs - quietMs)) === 'closed') return controller.close()
      }
    },
    cancel() {
      handle.close()
    },
  })
  return new Response(stream, { headers: sseHeaders })
}

export function mountWatchRoutes(app: Hono, options: ClientRouteOptions): void {
  const { node } = options
  app.get('/v1/watch', async (c) => {
    const target = parseTarget(c)
    const servedFrom = node.watchHistory().servedFrom
    if (target.from !== null && target.from < servedFrom) {
      throw new ApiError('compacted', `revision ${target.from} is older than this node's history, which starts at ${servedFrom}`, { compactRevision: servedFrom })
    }
    const handle = node.openWatch()
    if (handle === null) throw new ApiError('overloaded', `at most ${limits.watchersMax} watch streams per node`)
    try {
      let start = target.from
      if (start === null) {
        const after = await watchStartAfter(node, handle, options.requestTimeoutMs)
        if (after.type === 'unavailable') throw new ApiError('unavailable', after.reason)
        start = revision(after.revision + 1)
      }
      return watchStream(node, handle, target, start)
    } catch (error) {
      handle.close()
      throw error
    }
  })
}
