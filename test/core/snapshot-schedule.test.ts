/**
 * Goal: a snapshot is due once the slots, the commands or the bytes applied since the last one
 * reach their bound, whichever comes first, counted from the state the replica started from and
 * over again after every take or install; a bound left out is not counted.
 * Method: a table of turns (slots reached, commands and bytes applied) over SnapshotSchedule,
 * then a Replica fed chosen slots of several commands each, drained through processReady.
 */
import { describe, expect, it } from 'vitest'
import { nodeId, Replica, seededRandom, slot, slotZero, type LogEntry, type Value } from '../../src/core/index.js'
import { SnapshotSchedule, type SnapshotInterval } from '../../src/core/snapshot-schedule.js'
import { processReady } from '../../src/node/process-ready.js'
import { kvCommands, type WriteCommand } from '../../src/kv/command.js'

type Turn = Readonly<{ through: number; commands: number; bytes: number; due: boolean; take?: true }>

const cases: ReadonlyArray<Readonly<{ name: string; every: SnapshotInterval; from?: number; turns: readonly Turn[] }>> = [
  {
    name: 'slots alone: every 3 slots, whatever the slots carry',
    every: { slots: 3, commands: null, bytes: null },
    turns: [
      { through: 2, commands: 500, bytes: 1e9, due: false },
      { through: 3, commands: 1, bytes: 1, due: true, take: true },
      { through: 5, commands: 0, bytes: 0, due: false },
      { through: 6, commands: 0, bytes: 0, due: true },
    ],
  },
  {
    name: 'commands: a few slots of full batches are due long before the slot bound',
    every: { slots: 10_000, commands: 600, bytes: null },
    turns: [
      { through: 1, commands: 256, bytes: 0, due: false },
      { through: 2, commands: 256, bytes: 0, due: false },
      { through: 3, commands: 256, bytes: 0, due: true, take: true },
      // counting starts over after the take
      { through: 4, commands: 599, bytes: 0, due: false },
      { through: 5, commands: 1, bytes: 0, due: true },
      // not taken (the driver was busy, or a fetch went first): still due on the next turn
      { through: 5, commands: 0, bytes: 0, due: true },
    ],
  },
  {
    name: 'bytes: a few large commands are due before the command bound',
    every: { slots: 10_000, commands: 1000, bytes: 3_000_000 },
    turns: [
      { through: 1, commands: 1, bytes: 1_400_000, due: false },
      { through: 2, commands: 1, bytes: 1_400_000, due: false },
      { through: 3, commands: 1, bytes: 1_400_000, due: true, take: true },
      { through: 4, commands: 999, bytes: 999 * 300, due: false },
      { through: 5, commands: 1, bytes: 300, due: true },
    ],
  },
  {
    name: 'counted from the state it started at, not from slot 0',
    every: { slots: 4, commands: 10, bytes: null },
    from: 100,
    turns: [
      { through: 103, commands: 9, bytes: 0, due: false },
      { through: 104, commands: 0, bytes: 0, due: true },
    ],
  },
  {
    name: 'no bound: never due',
    every: { slots: null, commands: null, bytes: null },
    turns: [{ through: 1_000_000, commands: 1e9, bytes: 1e12, due: false }],
  },
]

describe('SnapshotSchedule', () => {
  for (const { name, every, from, turns } of cases) {
    it(name, () => {
      const schedule = new SnapshotSchedule(every, slot(from ?? 0))
      const seen = turns.map((turn) => {
        const due = schedule.applying(slot(turn.through), turn)
        if (turn.take) schedule.taken(slot(turn.through))
        return due
      })
      expect(seen).toEqual(turns.map((turn) => turn.due))
    })
  }

  it('an install counts as a snapshot taken: counting starts over after it', () => {
    const schedule = new SnapshotSchedule({ slots: null, commands: 10, bytes: null }, slotZero)
    expect(schedule.applying(slot(5), { commands: 9, bytes: 0 })).toBe(false)
    schedule.taken(slot(50))
    expect(schedule.applying(slot(51), { commands: 9, bytes: 0 })).toBe(false)
    expect(schedule.applying(slot(52), { commands: 1, bytes: 0 })).toBe(true)
  })

  it('an older take changes nothing', () => {
    const schedule = new SnapshotSchedule({ slots: null, commands: 10, bytes: null }, slot(20))
    expect(schedule.applying(slot(21), { commands: 9, bytes: 0 })).toBe(false)
    schedule.taken(slot(10))
    expect(schedule.applying(slot(22), { commands: 1, bytes: 0 })).toBe(true)
  })

  it('refuses a bound that is not a positive whole number', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => new SnapshotSchedule({ slots: null, commands: bad, bytes: null }, slotZero)).toThrow(/snapshot every/)
    }
  })
})

describe('a Replica takes snapshots by the commands it applies', () => {
  const put = (name: string): WriteCommand => ({ type: 'put', proposal: name, key: 'k', value: '', cas: null, idempotency: null })
  const batch = (at: number, commands: number): Value<WriteCommand> => Array.from({ length: commands }, (_, index) => put(`p${at}.${index}`))
  const members = [nodeId(1), nodeId(2), nodeId(3)]
  const ballot = { round: 1, node: nodeId(2) }

  function takesOf(entries: readonly LogEntry<WriteCommand>[], options: { snapshotEverySlots?: number; snapshotEveryCommands?: number; snapshotEveryBytes?: number }): number[] {
    const replica = new Replica<WriteCommand>({
      commands: kvCommands, self: nodeId(3), members, durable: { promised: ballot, entries }, appliedIndex: slotZero, random: seededRandom(3), ...options,
    })
    const takes: number[] = []
    // One slot a turn, as a follower applies them when they arrive one by one.
    while (processReady(replica, {
      self: nodeId(3), atomically: (work) => work(), persist: () => {}, reads: () => {}, dropped: () => {}, apply: () => {}, send: () => {},
      fetchSnapshot: () => {}, installSnapshot: () => {}, takeSnapshot: (index) => takes.push(index),
    })) {
      // until nothing is left
    }
    return takes
  }

  const chosen = (counts: readonly number[]): LogEntry<WriteCommand>[] =>
    counts.map((count, index) => ({ slot: slot(index + 1), ballot, value: batch(index + 1, count), chosen: true }))

  it('a slot bound alone waits for the slots, however many commands they carry', () => {
    expect(takesOf(chosen([256, 256, 256, 256]), { snapshotEverySlots: 4 })).toEqual([4])
  })

  it('a command bound takes one as soon as the commands pass it, in the turn that applied them', () => {
    // All four slots apply in one turn: the take is at the last of them.
    expect(takesOf(chosen([100, 100, 100, 100]), { snapshotEverySlots: 1000, snapshotEveryCommands: 250 })).toEqual([4])
  })

  it('a noop is not a command: slots of noops alone never reach the command bound', () => {
    const noops: LogEntry<WriteCommand>[] = [1, 2, 3].map((at) => ({ slot: slot(at), ballot, value: [{ type: 'noop' }], chosen: true }))
    expect(takesOf(noops, { snapshotEveryCommands: 1 })).toEqual([])
  })

  it('a byte bound counts the commands\' estimated bytes (CommandPort.bytes)', () => {
    const bytes = kvCommands.bytes(put('p1.0'))
    expect(takesOf(chosen([10]), { snapshotEveryBytes: 10 * bytes })).toEqual([1])
    expect(takesOf(chosen([10]), { snapshotEveryBytes: 10 * bytes + 1 })).toEqual([])
  })
})
