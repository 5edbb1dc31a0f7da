/**
 * Goal: the log is truncated only behind a durable snapshot, keeping the retained tail, and
 * never backwards.
 * Method: a table over compactionPoint; compactLog over a MemoryLogStore.
 */
import { describe, expect, it } from 'vitest'
import { noopValue, nodeId, slot } from '../../src/core/index.js'
import { compactionPoint, compactLog } from '../../src/storage/log-compaction.js'
import { MemoryLogStore } from '../../src/storage/memory-log-store.js'
import { type WriteCommand } from '../../src/kv/command.js'

describe('compactionPoint', () => {
  it.each([
    // snapshot, retain, compacted so far, expected
    [100, 10, 0, 90],
    [100, 0, 0, 100],
    [100, 100, 0, null],
    [100, 150, 0, null],
    [100, 10, 90, null],
    [100, 10, 95, null],
    [0, 0, 0, null],
  ])('snapshot at %i, retaining %i, compacted through %i: truncate through %s', (snapshot, retain, compacted, expected) => {
    expect(compactionPoint(slot(snapshot), retain, slot(compacted))).toBe(expected)
  })

  it('refuses a negative or fractional retained tail', () => {
    expect(() => compactionPoint(slot(10), -1, slot(0))).toThrow(/retain/)
    expect(() => compactionPoint(slot(10), 1.5, slot(0))).toThrow(/retain/)
  })
})

it('compactLog truncates a log store behind the snapshot and keeps the tail', () => {
  const log = new MemoryLogStore<WriteCommand>()
  log.append(Array.from({ length: 20 }, (_, index) => ({ slot: slot(index + 1), ballot: { round: 1, node: nodeId(1) }, value: noopValue, chosen: true })))
  expect(compactLog(log, slot(15), 5)).toBe(10)
  expect(log.read(slot(10), 1)).toEqual({ type: 'compacted', through: 10 })
  const tail = log.read(slot(11), 100)
  expect(tail.type === 'entries' && tail.entries.length).toBe(10)
  expect(compactLog(log, slot(12), 5)).toBe(10)
})
