/**
 * Goal: GET /v1/watch as api.md says: change events for the watched key or prefix only, in
 * revision order (id = revision), a txn's changes in one event, resumable with fromRevision or
 * Last-Event-ID, starting after the current revision without either, progress events when
 * quiet, 410 with the oldest revision served for a fromRevision the history no longer has, a
 * stream that falls behind the history closed rather than skipped, a bounded number of
 * watchers, and 400 for a bad query. Method: app.request() against createApp with a FakeNode,
 * reading the SSE body as it streams.
 */
import { describe, expect, it } from 'vitest'
import { setup } from './route-setup.js'

type Event = { id: string | null; event: string; data: { revision: number; changes?: Array<Record<string, unknown>> } }

/** Reads SSE events from a response body as they arrive. */
function events(response: Response) {
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let buffered = ''
  return {
    async next(): Promise<Event | null> {
      for (;;) {
        const end = buffered.indexOf('\n\n')
        if (end >= 0) {
          const block = buffered.slice(0, end)
          buffered = buffered.slice(end + 2)
          const fields = Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]))
          if (fields.event === undefined) continue // the retry: line
          return { id: fields.id ?? null, event: fields.event, data: JSON.parse(fields.data!) }
        }
        const chunk = await reader.read()
        if (chunk.done) return null
        buffered += decoder.decode(chunk.value, { stream: true })
      }
    },
    cancel: () => reader.cancel(),
  }
}

const b64 = (text: string) => Buffer.from(text).toString('base64')

describe('GET /v1/watch', () => {
  it('streams changes of one key in revision order, with metadata and prevVersion, and later writes as they apply', async () => {
    const { app } = setup()
    for (const [key, value] of [['a', '1'], ['b', '2'], ['a', '3']] as const) await app.request(`/v1/kv/${key}`, { method: 'PUT', body: value })
    const stream = events(await app.request('/v1/watch?key=a&fromRevision=1'))
    expect(await stream.next()).toEqual({ id: '1', event: 'change', data: { revision: 1, changes: [{ type: 'put', key: 'a', value: b64('1'), createRevision: 1, writes: 1, lease: null, prevVersion: 0 }] } })
    expect(await stream.next()).toMatchObject({ id: '3', data: { revision: 3, changes: [{ key: 'a', value: b64('3'), writes: 2, prevVersion: 1 }] } })
    await app.request('/v1/kv/b', { method: 'DELETE' })
    await app.request('/v1/kv/a', { method: 'DELETE' })
    expect(await stream.next()).toEqual({ id: '5', event: 'change', data: { revision: 5, changes: [{ type: 'delete', key: 'a', createRevision: 0, writes: 0, lease: null, prevVersion: 3 }] } })
    await stream.cancel()
  })

  it('a prefix watch gets a txn\'s changes as one event; without fromRevision it starts after the current revision', async () => {
    const { app } = setup()
    await app.request('/v1/kv/app/old', { method: 'PUT', body: 'x' })
    const stream = events(await app.request('/v1/watch?prefix=app/'))
    await app.request('/v1/txn', { method: 'POST', body: JSON.stringify({ success: [{ put: { key: 'app/a', value: b64('1') } }, { put: { key: 'other', value: b64('2') } }, { delete: { key: 'app/old' } }] }) })
    expect(await stream.next()).toMatchObject({ id: '2', data: { revision: 2, changes: [{ type: 'put', key: 'app/a' }, { type: 'delete', key: 'app/old', prevVersion: 1 }] } })
    await stream.cancel()
  })

  it('watchers of one prefix get the same event, and a narrower watcher still gets only its own changes of that revision', async () => {
    const { app } = setup()
    const whole = [events(await app.request('/v1/watch?prefix=app/')), events(await app.request('/v1/watch?prefix=app/'))]
    const narrow = events(await app.request('/v1/watch?key=app/a'))
    await app.request('/v1/txn', { method: 'POST', body: JSON.stringify({ success: [{ put: { key: 'app/a', value: b64('1') } }, { put: { key: 'app/b', value: b64('2') } }] }) })
    for (const stream of whole) {
      expect(await stream.next()).toMatchObject({ id: '1', data: { revision: 1, changes: [{ key: 'app/a' }, { key: 'app/b' }] } })
    }
    const own = await narrow.next()
    expect(own).toMatchObject({ id: '1', data: { revision: 1 } })
    expect(own!.data.changes!.map((change) => change.key)).toEqual(['app/a'])
    for (const stream of [...whole, narrow]) await stream.cancel()
  })

  it('a watcher that is behind gets many revisions in one write, each its own event, in order', async () => {
    const { app } = setup()
    for (let index = 0; index < 40; index++) await app.request(`/v1/kv/k${index}`, { method: 'PUT', body: 'v' })
    const reader = (await app.request('/v1/watch?prefix=k&fromRevision=1')).body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    // The first chunk is the retry: line; the second holds the events the stream owes.
    while (!text.includes('id: ')) text += decoder.decode((await reader.read()).value!)
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]))
    expect(ids.length).toBeGreaterThan(8) // more than one history read (watchReadRevisionsMax) per write
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, index) => index + 1))
    await reader.cancel()
  })

  it('resumes after Last-Event-ID, and says progress when quiet', async () => {
    const { app } = setup()
    for (let index = 0; index < 3; index += 1) await app.request('/v1/kv/k', { method: 'PUT', body: String(index) })
    const stream = events(await app.request('/v1/watch?key=k&progressMs=100', { headers: { 'last-event-id': '2' } }))
    expect(await stream.next()).toMatchObject({ id: '3', event: 'change' })
    expect(await stream.next()).toEqual({ id: null, event: 'progress', data: { revision: 3 } })
    await stream.cancel()
  })

  it('answers 410 with the oldest revision served for a fromRevision the history dropped', async () => {
    const { app } = setup(300, { history: { revisionsMax: 2, bytesMax: 1 << 20 } })
    for (let index = 0; index < 4; index += 1) await app.request('/v1/kv/k', { method: 'PUT', body: String(index) })
    const response = await app.request('/v1/watch?key=k&fromRevision=2')
    expect(response.status).toBe(410)
    expect(await response.json()).toMatchObject({ error: 'compacted', compactRevision: 3 })
    expect((await app.request('/v1/watch?key=k&fromRevision=3')).status).toBe(200)
  })

  it('closes a stream that falls behind the history, after a gapless run of events', async () => {
    const { app } = setup(300, { history: { revisionsMax: 3, bytesMax: 1 << 20 } })
    await app.request('/v1/kv/k', { method: 'PUT', body: 'first' })
    const stream = events(await app.request('/v1/watch?key=k&fromRevision=1'))
    for (let index = 0; index < 10; index += 1) await app.request('/v1/kv/k', { method: 'PUT', body: String(index) })
    const seen: string[] = []
    // The loop ends: the stream is closed once the history no longer holds its next revision.
    for (let event = await stream.next(); event !== null; event = await stream.next()) seen.push(event.id!)
    expect(seen).toEqual(seen.map((_, index) => String(index + 1))) // from 1, no gap: it ends instead of skipping
    expect(seen.length).toBeLessThan(11)
  })

  it('serves a bounded number of watchers; a closed one frees its place', async () => {
    const { app } = setup()
    const open = await Promise.all(Array.from({ length: 4 }, () => app.request('/v1/watch?key=k&fromRevision=1')))
    const refused = await app.request('/v1/watch?key=k&fromRevision=1')
    expect(refused.status).toBe(503)
    await open[0]!.body!.cancel()
    expect((await app.request('/v1/watch?key=k&fromRevision=1')).status).toBe(200)
  })

  it.each(['/v1/watch', '/v1/watch?key=a&prefix=b', '/v1/watch?key=', '/v1/watch?key=a&fromRevision=0', '/v1/watch?key=a&fromRevision=x', '/v1/watch?key=a&other=1', '/v1/watch?key=a&progressMs=5'])('%s is 400', async (path) => {
    const { app } = setup()
    expect((await app.request(path)).status).toBe(400)
  })
})
