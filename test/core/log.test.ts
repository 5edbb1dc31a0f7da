/**
 * Goal: the log answers the same whether an applied entry is still in memory or was trimmed to
 * the archive, and it refuses to trim or overwrite what is not chosen.
 * Method: a Log over a MemoryAcceptorStorage archive holding the same entries.
 */
import { describe, expect, it } from 'vitest'
import { ballotZero, noopValue, slot, type LogEntry } from '../../src/core/index.js'
import { Log } from '../../src/core/log.js'
import { MemoryAcceptorStorage } from '../../src/storage/memory-storage.js'
import type { WriteCommand } from '../../src/kv/command.js'

function chosenEntries(count: number): LogEntry<WriteCommand>[] {
  return Array.from({ length: count }, (_, index) => ({ slot: slot(index + 1), ballot: ballotZero, value: noopValue, chosen: true }))
}

describe('Log', () => {
  it('serves trimmed slots from the archive, identically', () => {
    const entries = [...chosenEntries(10), { slot: slot(12), ballot: ballotZero, value: noopValue, chosen: false }]
    const archive = new MemoryAcceptorStorage<WriteCommand>()
    archive.persist({ promised: null, entries })
    const untrimmed = new Log(entries, archive.log)
    const trimmed = new Log(entries, archive.log)
    trimmed.trim(slot(10), 2)
    expect(() => trimmed.set({ ...entries[2]!, chosen: true })).toThrow(/trimmed/)
    for (const at of [1, 5, 8, 9, 10, 11, 12]) expect(trimmed.get(slot(at))).toEqual(untrimmed.get(slot(at)))
    expect(trimmed.chosenRun(slot(1), 100)).toEqual(untrimmed.chosenRun(slot(1), 100))
    expect(trimmed.chosenRun(slot(1), 100)).toHaveLength(10)
    expect(trimmed.entriesFrom(slot(7), 100)).toEqual(untrimmed.entriesFrom(slot(7), 100))
    expect(trimmed.entriesFrom(slot(3), 4).map((entry) => entry.slot)).toEqual([3, 4, 5, 6])
    expect(trimmed.chosenThrough(slot(0))).toBe(10)
  })

  it('does not trim without an archive, nor within the retention window', () => {
    const log = new Log(chosenEntries(10))
    log.trim(slot(10), 2)
    expect(log.get(slot(1))).toBeDefined()
    const archive = new MemoryAcceptorStorage<WriteCommand>()
    const windowed = new Log(chosenEntries(10), archive.log)
    windowed.trim(slot(10), 6) // 10 - 0 < 2 * 6: keep everything in memory
    expect(windowed.get(slot(1))).toBeDefined()
  })

  it('refuses to trim an entry that is not chosen', () => {
    const entries = chosenEntries(6).map((entry, index) => (index === 1 ? { ...entry, chosen: false } : entry))
    const log = new Log(entries, new MemoryAcceptorStorage<WriteCommand>().log)
    expect(() => log.trim(slot(6), 2)).toThrow(/not chosen/)
  })
})
