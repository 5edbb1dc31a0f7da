/**
 * What the live feed costs a busy leader: one simulated second at a given write rate and batch
 * size (each slot: the leader's own accept persisted, accepts to 2 peers, 2 accepteds back, a
 * slots-chosen event, the slot applied, one WAL sync; every write's commit time recorded), plus
 * the frames of that second serialized for one subscriber. Prints CPU ms per simulated second,
 * that is, thousandths of a core. `npx tsx bench/live-feed-cost.ts [--writes 10000]`
 */
import { parseArgs } from 'node:util'
import { limits, nodeId, slot, type Envelope, type Value } from '../src/core/index.js'
import { type WriteCommand } from '../src/kv/command.js'
import { LiveFeed } from '../src/node/live-feed.js'

const { values } = parseArgs({ options: { writes: { type: 'string', default: '10000' }, seconds: { type: 'string', default: '5' } } })
const writesPerSecond = Number(values.writes)
const seconds = Number(values.seconds)

function runSecond(feed: LiveFeed, batch: number, firstSlot: number): number {
  const ballot = { round: 3, node: nodeId(1) }
  const command: WriteCommand = { type: 'put', proposal: 'p', key: 'key', value: 'dmFsdWU=', cas: null, idempotency: null }
  const value: Value<WriteCommand> = Array.from({ length: batch }, () => command)
  const recorder = feed.recorder
  const slots = Math.ceil(writesPerSecond / batch)
  const framesPerSecond = 1000 / limits.liveFrameMs
  for (let index = 0; index < slots; index += 1) {
    const at = slot(firstSlot + index)
    const accept = { type: 'accept', ballot, firstSlot: at, values: [value], commitIndex: at } as const
    const accepted = { type: 'accepted', ballot, firstSlot: at, lastSlot: at } as const
    const sent: Envelope<WriteCommand>[] = [{ from: nodeId(1), to: nodeId(2), message: accept }, { from: nodeId(1), to: nodeId(3), message: accept }]
    recorder.persisted([{ slot: at, ballot, value, chosen: false }])
    recorder.sent(sent)
    recorder.walSynced(0.8)
    recorder.received([{ from: nodeId(2), to: nodeId(1), message: accepted }, { from: nodeId(3), to: nodeId(1), message: accepted }])
    recorder.coreEvent({ type: 'slots-chosen', firstSlot: at, lastSlot: at, ballot, quorum: [nodeId(1), nodeId(2)] }, index)
    recorder.applied([{ slot: at, value }])
    for (let write = 0; write < batch; write += 1) recorder.writeApplied(1.5)
    if (index % Math.ceil(slots / framesPerSecond) === 0) feed.publishFrame()
  }
  return firstSlot + slots
}

for (const batch of [1, 16]) {
  const feed = new LiveFeed({
    self: nodeId(1),
    members: () => [nodeId(1), nodeId(2), nodeId(3)],
    inputs: () => ({ atMs: 0, node: { id: 1, role: 'leader', leader: 1, promised: '3.1', commitIndex: 0, appliedIndex: 0, revision: 0, inboxDepth: 0 }, peers: [], held: null }),
  })
  const subscription = feed.subscribe()!
  let frames = 0
  const drain = async (): Promise<void> => {
    while ((await subscription.frames.next()) !== null) frames += 1
  }
  void drain()
  let next = runSecond(feed, batch, 1) // warm-up
  const started = process.cpuUsage()
  for (let second = 0; second < seconds; second += 1) {
    next = runSecond(feed, batch, next)
    await new Promise((resolve) => setImmediate(resolve)) // let the subscriber take its frames
  }
  const used = process.cpuUsage(started)
  const msPerSecond = (used.user + used.system) / 1000 / seconds
  console.log(`${writesPerSecond} writes/s in batches of ${batch}: ${msPerSecond.toFixed(1)} ms CPU per second = ${(msPerSecond / 10).toFixed(2)}% of a core (${frames} frames taken)`)
  feed.stop()
}
