/**
 * Goal: watch through real processes: a watcher on a follower sees every write made through the
 * leader, in order, with no gap; after kill -9 of the watched node the client resumes on another
 * node with fromRevision and gets exactly the rest; a watch without fromRevision, opened on a
 * follower right after a write was acknowledged by the leader, starts after that write.
 * Method: a real 3-node cluster on 127.0.0.1; SSE read with fetch as the bytes arrive.
 */
import { describe, expect, it } from 'vitest'
import { clusterPerTest, putEventually, waitFor } from './harness.js'

const startCluster = clusterPerTest()

type ChangeEvent = { revision: number; changes: Array<{ type: string; key: string; value?: string }> }

/** The change events of one SSE stream, collected as they arrive; `ended` once the stream stops. */
function collect(response: Response) {
  const seen: ChangeEvent[] = []
  const state = { ended: false }
  const done = (async () => {
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    let buffered = ''
    try {
      for (;;) {
        const chunk = await reader.read()
        if (chunk.done) break
        buffered += decoder.decode(chunk.value, { stream: true })
        for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
          const block = buffered.slice(0, end)
          buffered = buffered.slice(end + 2)
          if (!block.includes('event: change')) continue
          seen.push(JSON.parse(block.split('\n').find((line) => line.startsWith('data: '))!.slice(6)) as ChangeEvent)
        }
      }
    } catch {
      // the node died under the stream: it ends here
    }
    state.ended = true
  })()
  return { seen, state, done }
}

describe('watch on a real cluster', () => {
  it('a follower\'s watcher sees every write through the leader in order; after kill -9 of it, another node serves exactly the rest', async () => {
    const cluster = await startCluster()
    const leader = await cluster.leader()
    const [watched, other] = cluster.ids.filter((id) => id !== leader) as [number, number]
    await putEventually(cluster.url(leader), 'w/0', 'before')
    const first = collect(await fetch(`${cluster.url(watched)}/v1/watch?prefix=w/`))
    const revisions: number[] = []
    for (let index = 1; index <= 20; index += 1) revisions.push((await putEventually(cluster.url(leader), `w/${index}`, `v${index}`)).version)
    await waitFor('the follower\'s watcher to see 20 writes', async () => (first.seen.length >= 20 ? true : null))
    // Started after the write acknowledged before it, then every later one, in order, once each.
    expect(first.seen.map((event) => event.revision)).toEqual(revisions)
    expect(first.seen.map((event) => event.changes[0]!.key)).toEqual(revisions.map((_, index) => `w/${index + 1}`))

    await cluster.kill(watched)
    await waitFor('the stream to end with its node', async () => (first.state.ended ? true : null))
    const more: number[] = []
    for (let index = 21; index <= 25; index += 1) more.push((await putEventually(cluster.url(leader), `w/${index}`, `v${index}`)).version)
    const last = first.seen.at(-1)!.revision
    const resumed = collect(await fetch(`${cluster.url(other)}/v1/watch?prefix=w/&fromRevision=${last + 1}`))
    await waitFor('the resumed watcher to see the rest', async () => (resumed.seen.length >= more.length ? true : null))
    expect(resumed.seen.map((event) => event.revision)).toEqual(more)
  })
})
