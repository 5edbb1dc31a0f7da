/**
 * Goal: the core knows its compaction point and never answers below it as if nothing had been
 * accepted there. A prepare reaching below it gets a page "chosen and compacted through S"; a
 * catch-up gets "compacted through S"; an accept there gets no vote. A candidate told so treats
 * slots <= S as chosen (proposes only above S) and fetches a snapshot; a learner that lacks
 * compacted slots asks for a fetch once (again only after its timeout), installs what the driver
 * fetched in a turn of its own, and then catches up from the log after it. Ready asks to take a
 * snapshot every N applied slots, counted from the start state and from any install.
 * Method: Replicas stepped with hand-made messages, drained through the production processReady
 * with recording ports; one table over the Log itself.
 */
import { describe, expect, it } from 'vitest'
import { AssertionError, limits, nodeId, noopValue, Replica, seededRandom, slot, slotZero, type Envelope, type LogEntry, type SnapshotAction, type Value } from '../../src/core/index.js'
import { Log } from '../../src/core/log.js'
import { processReady } from '../../src/node/process-ready.js'
import { type WriteCommand, kvCommands } from '../../src/kv/command.js'

const members = [nodeId(1), nodeId(2), nodeId(3)]
const value = (name: string): Value<WriteCommand> => [{ type: 'put', proposal: name, key: 'k', value: '', cas: null, idempotency: null }]
const old = { round: 1, node: nodeId(2) }
const chosen = (at: number): LogEntry<WriteCommand> => ({ slot: slot(at), ballot: old, value: value(`v${at}`), chosen: true })

type Drained = { sent: Envelope<WriteCommand>[]; fetches: SnapshotAction[]; installs: number[]; applied: number[]; takes: number[] }

function node(self: number, options: { entries?: LogEntry<WriteCommand>[]; appliedIndex?: number; compactedThrough?: number; snapshotEverySlots?: number } = {}) {
  const replica = new Replica<WriteCommand>({ commands: kvCommands,
    self: nodeId(self),
    members,
    durable: { promised: old, entries: options.entries ?? [] },
    appliedIndex: slot(options.appliedIndex ?? 0),
    compactedThrough: slot(options.compactedThrough ?? 0),
    random: seededRandom(self),
    ...(options.snapshotEverySlots === undefined ? {} : { snapshotEverySlots: options.snapshotEverySlots }),
  })
  const drain = (): Drained => {
    const drained: Drained = { sent: [], fetches: [], installs: [], applied: [], takes: [] }
    processReady(replica, {
      self: nodeId(self), atomically: (work) => work(), persist: () => {}, reads: () => {}, dropped: () => {},
      apply: (entries) => drained.applied.push(...entries.map((entry) => entry.slot)),
      send: (envelopes) => drained.sent.push(...envelopes),
      fetchSnapshot: (from, through) => drained.fetches.push({ type: 'fetch', from, through }),
      installSnapshot: (index) => { drained.installs.push(index) },
      takeSnapshot: (index) => drained.takes.push(index),
    })
    return drained
  }
  const step = (from: number, message: Envelope<WriteCommand>['message']) => replica.step({ from: nodeId(from), to: nodeId(self), message })
  return { replica, drain, step }
}

const messagesTo = (drained: Drained, to: number) => drained.sent.filter((envelope) => envelope.to === nodeId(to)).map((envelope) => envelope.message)

describe('a compacted acceptor and learner', () => {
  // Slots 1..10 chosen and applied; 1..6 truncated behind a snapshot.
  const compacted = () => node(2, { entries: [7, 8, 9, 10].map(chosen), appliedIndex: 10, compactedThrough: 6 })
  const ballot = { round: 5, node: nodeId(1) }

  it('answers a prepare below the compaction point with a compacted page, then the entries after it', () => {
    const { step, drain } = compacted()
    step(1, { type: 'prepare', ballot, fromSlot: slot(3) })
    expect(messagesTo(drain(), 1)).toEqual([{ type: 'promise', ballot, fromSlot: 3, accepted: [], throughSlot: 6, more: true, compactedThrough: 6 }])
    step(1, { type: 'prepare', ballot, fromSlot: slot(7) })
    const [page] = messagesTo(drain(), 1)
    expect(page).toMatchObject({ type: 'promise', fromSlot: 7, throughSlot: 10, more: false })
    expect(page?.type === 'promise' && page.accepted.map((entry) => entry.slot)).toEqual([7, 8, 9, 10])
    expect(page?.type === 'promise' && page.compactedThrough).toBeUndefined()
  })

  it('answers a catch-up below the point with "compacted", one above it with the chosen entries', () => {
    const { step, drain } = compacted()
    step(3, { type: 'catch-up', fromSlot: slot(2) })
    expect(messagesTo(drain(), 3)).toEqual([{ type: 'compacted', through: 6 }])
    step(3, { type: 'catch-up', fromSlot: slot(9) })
    expect(messagesTo(drain(), 3)).toEqual([{ type: 'chosen', entries: [9, 10].map((at) => ({ slot: at, value: value(`v${at}`) })) }])
  })

  it('gives no vote in a compacted slot, and keeps voting above it', () => {
    const { step, drain } = compacted()
    step(1, { type: 'accept', ballot, firstSlot: slot(5), values: [value('x'), value('y')], commitIndex: slot(10) })
    expect(messagesTo(drain(), 1)).toEqual([])
    step(1, { type: 'accept', ballot, firstSlot: slot(11), values: [value('z')], commitIndex: slot(10) })
    expect(messagesTo(drain(), 1)).toEqual([{ type: 'accepted', ballot, firstSlot: 11, lastSlot: 11 }])
  })

  it('refuses to start compacted beyond its applied index', () => {
    expect(() => node(2, { appliedIndex: 3, compactedThrough: 4 })).toThrow(AssertionError)
  })
})

describe('a learner that lacks compacted slots', () => {
  it('asks for a fetch once, installs the fetched snapshot in a turn of its own, then catches up from the log', () => {
    const { replica, step, drain } = node(3)
    const leader = { round: 4, node: nodeId(1) }
    step(1, { type: 'heartbeat', ballot: leader, commitIndex: slot(20), readRound: 0 })
    expect(messagesTo(drain(), 1)).toContainEqual({ type: 'catch-up', fromSlot: 1 })
    step(1, { type: 'compacted', through: slot(15) })
    expect(drain().fetches).toEqual([{ type: 'fetch', from: 1, through: 15 }])
    step(1, { type: 'compacted', through: slot(15) }) // the catch-up answered again
    expect(drain().fetches).toEqual([]) // a fetch is under way: not asked twice
    for (let tick = 0; tick < limits.snapshotFetchTicks; tick += 1) replica.tick()
    expect(drain().fetches).toEqual([{ type: 'fetch', from: 1, through: 15 }]) // nothing came of it: again
    replica.snapshotReady(slot(18)) // the source's newest snapshot covers more than asked
    const installed = drain()
    expect(installed.installs).toEqual([18])
    expect(installed.applied).toEqual([])
    expect(replica.status()).toMatchObject({ appliedIndex: 18, commitIndex: 18 })
    expect(messagesTo(installed, 1)).toContainEqual({ type: 'catch-up', fromSlot: 19 })
    step(1, { type: 'chosen', entries: [19, 20].map((at) => ({ slot: slot(at), value: value(`v${at}`) })) })
    expect(drain().applied).toEqual([19, 20])
    for (let tick = 0; tick < 2 * limits.snapshotFetchTicks; tick += 1) replica.tick()
    expect(drain().fetches).toEqual([]) // it has what it lacked: no more fetches
  })

  it('fetches from the peer whose snapshot covers the most, not from the latest to report a shorter one', () => {
    const { replica, step, drain } = node(3)
    step(1, { type: 'heartbeat', ballot: { round: 4, node: nodeId(1) }, commitIndex: slot(20), readRound: 0 })
    drain()
    step(1, { type: 'compacted', through: slot(15) })
    step(2, { type: 'compacted', through: slot(12) }) // its snapshot lacks 13..15
    expect(drain().fetches).toEqual([{ type: 'fetch', from: 1, through: 15 }])
    const again = () => {
      for (let tick = 0; tick < limits.snapshotFetchTicks; tick += 1) replica.tick()
      return drain().fetches
    }
    step(2, { type: 'compacted', through: slot(12) })
    expect(again()).toEqual([{ type: 'fetch', from: 1, through: 15 }])
    step(2, { type: 'compacted', through: slot(15) }) // as much, and later: node 1 may be gone
    expect(again()).toEqual([{ type: 'fetch', from: 2, through: 15 }])
    step(2, { type: 'compacted', through: slot(9) }) // the wanted peer's own word: its disk was replaced
    expect(again()).toEqual([{ type: 'fetch', from: 2, through: 9 }])
  })

  it('ignores a snapshot that is not newer than what it applied', () => {
    const { replica, drain } = node(2, { entries: [1, 2, 3].map(chosen), appliedIndex: 3 })
    replica.snapshotReady(slot(2))
    expect(drain().installs).toEqual([])
  })
})

describe('a candidate told that slots are compacted', () => {
  it('treats them as chosen: proposes only above them, and fetches the snapshot', () => {
    const { replica, step, drain } = node(1)
    replica.campaign()
    drain() // its own promise comes back through the loopback
    const ballot = replica.status().ballot
    step(2, { type: 'promise', ballot, fromSlot: slot(1), accepted: [], throughSlot: slot(6), more: true, compactedThrough: slot(6) })
    const asked = drain()
    expect(messagesTo(asked, 2)).toEqual([{ type: 'prepare', ballot, fromSlot: 7 }])
    expect(asked.fetches).toEqual([{ type: 'fetch', from: 2, through: 6 }])
    step(2, { type: 'promise', ballot, fromSlot: slot(7), accepted: [chosen(7), { ...chosen(9), chosen: false }], throughSlot: slot(9), more: false })
    expect(replica.status().role).toBe('leader')
    const accepts = messagesTo(drain(), 3).filter((message) => message.type === 'accept')
    expect(accepts.map((message) => message.type === 'accept' && message.firstSlot)).toEqual([7])
    expect(accepts.flatMap((message) => (message.type === 'accept' ? message.values : []))).toEqual([value('v7'), noopValue, value('v9')])
    // Writes go above the recovered range; reads wait until the snapshot is installed.
    expect(replica.status().commitIndex).toBe(slotZero)
  })
})

describe('Log compaction point', () => {
  it('forgets compacted slots, asserts on reads below the point, and counts them as chosen', () => {
    const log = new Log([1, 2, 3, 4, 5].map(chosen))
    log.compact(slot(3))
    expect(log.compactedThrough).toBe(3)
    expect(log.isCompacted(slot(3))).toBe(true)
    expect(log.isCompacted(slot(4))).toBe(false)
    expect(() => log.get(slot(2))).toThrow(/compacted/)
    expect(() => log.entriesFrom(slot(3), 10)).toThrow(/compacted/)
    expect(() => log.chosenRun(slot(1), 10)).toThrow(/compacted/)
    expect(log.chosenThrough(slot(0))).toBe(5)
    expect(log.entriesFrom(slot(4), 10).map((entry) => entry.slot)).toEqual([4, 5])
    log.compact(slot(2)) // never backwards
    expect(log.compactedThrough).toBe(3)
    log.compact(slot(9)) // an install past everything held
    expect(log.highestSlot).toBe(9)
    expect(() => log.set(chosen(8))).toThrow(AssertionError)
  })
})

describe('when to take a snapshot', () => {
  it('asks for one every N applied slots after the one it started from, and counts an install as one', () => {
    const { replica, step, drain } = node(3, { entries: [1, 2, 3, 4].map(chosen), snapshotEverySlots: 3 })
    expect(drain()).toMatchObject({ applied: [1, 2, 3, 4], takes: [4] })
    step(1, { type: 'chosen', entries: [5, 6].map((at) => ({ slot: slot(at), value: value(`v${at}`) })) })
    expect(drain()).toMatchObject({ applied: [5, 6], takes: [] })
    step(1, { type: 'chosen', entries: [7].map((at) => ({ slot: slot(at), value: value(`v${at}`) })) })
    expect(drain()).toMatchObject({ applied: [7], takes: [7] })
    replica.snapshotReady(slot(20))
    expect(drain()).toMatchObject({ installs: [20], takes: [] })
    step(1, { type: 'chosen', entries: [21, 22].map((at) => ({ slot: slot(at), value: value(`v${at}`) })) })
    expect(drain()).toMatchObject({ applied: [21, 22], takes: [] })
  })

  it('never asks without an interval, and starts counting from the applied index it starts at', () => {
    expect(node(3, { entries: [1, 2, 3, 4].map(chosen) }).drain().takes).toEqual([])
    const restarted = node(3, { entries: [5, 6, 7].map(chosen), appliedIndex: 4, snapshotEverySlots: 4 })
    expect(restarted.drain()).toMatchObject({ applied: [5, 6, 7], takes: [] })
  })
})
