/**
 * Goal: a promise's report and a catch-up reply come in pages that fit the byte bound, that
 * always move forward (a single maximal entry goes alone), that say where they end and whether
 * more follows, and that together cover exactly what one unbounded read would: nothing lost,
 * nothing twice, trimmed slots (read from the archive) included.
 * Method: logs of entries of chosen sizes, read page by page as a candidate would.
 */
import { describe, expect, it } from 'vitest'
import { ballotZero, MessageSizes, messageOverheadBytes, nodeId, slot, type LogEntry, type Slot } from '../../src/core/index.js'
import { Log } from '../../src/core/log.js'
import { chosenPage, promisePage } from '../../src/core/pages.js'
import { MemoryAcceptorStorage } from '../../src/storage/memory-storage.js'
import { kvCommands, type WriteCommand } from '../../src/kv/command.js'

const ballot = { round: 3, node: nodeId(2) }
const sizes = new MessageSizes(kvCommands)

function entry(at: number, valueChars: number, chosen: boolean): LogEntry<WriteCommand> {
  return { slot: slot(at), ballot: chosen ? ballotZero : ballot, value: [{ type: 'put', proposal: `p${at}`, key: 'k', value: 'A'.repeat(valueChars), cas: null, idempotency: null }], chosen }
}

/** Slots 1..40 chosen (small and large values), 41..60 accepted with gaps, trimmed through 30. */
function sampleLog(): { log: Log<WriteCommand>; entries: LogEntry<WriteCommand>[] } {
  const entries: LogEntry<WriteCommand>[] = []
  for (let at = 1; at <= 40; at += 1) entries.push(entry(at, at % 7 === 0 ? 3000 : 40, true))
  for (let at = 41; at <= 60; at += 1) if (at % 3 !== 0) entries.push(entry(at, at % 5 === 0 ? 2500 : 10, false))
  const archive = new MemoryAcceptorStorage<WriteCommand>()
  archive.persist({ promised: null, entries })
  const log = new Log(entries, archive.log)
  log.trim(slot(40), 10)
  return { log, entries }
}

function readReport(log: Log<WriteCommand>, fromSlot: Slot, bytesMax: number): { pages: number; entries: LogEntry<WriteCommand>[] } {
  const entries: LogEntry<WriteCommand>[] = []
  let next = fromSlot
  for (let pages = 1; pages < 1000; pages += 1) {
    const page = promisePage(log, sizes, next, bytesMax)
    const message = { type: 'promise', ballot, fromSlot: next, ...page } as const
    expect(sizes.messageBytes(message) <= bytesMax || page.accepted.length === 1, `page from ${next} is over the bound`).toBe(true)
    expect(page.throughSlot).toBeGreaterThanOrEqual(next - 1)
    for (const item of page.accepted) expect(item.slot >= next && item.slot <= page.throughSlot).toBe(true)
    entries.push(...page.accepted)
    if (!page.more) return { pages, entries }
    expect(page.throughSlot).toBeGreaterThanOrEqual(next)
    next = slot(page.throughSlot + 1)
  }
  throw new Error('the report never ended')
}

describe('promise pages', () => {
  it.each([1024, 4000, 9000, 1 << 20])('cover the whole report, in order, within %i bytes per page', (bytesMax) => {
    const { log, entries } = sampleLog()
    for (const from of [1, 25, 31, 45, 61, 100]) {
      const report = readReport(log, slot(from), bytesMax)
      expect(report.entries).toEqual(entries.filter((item) => item.slot >= from))
      if (bytesMax === 1 << 20) expect(report.pages).toBe(1)
    }
  })

  it('a page too small for two entries carries one, and a large one alone', () => {
    const { log } = sampleLog()
    const page = promisePage(log, sizes, slot(7), messageOverheadBytes + 10)
    expect(page).toMatchObject({ throughSlot: 7, more: true })
    expect(page.accepted.map((item) => item.slot)).toEqual([7])
    expect(sizes.entryBytes(page.accepted[0]!)).toBeGreaterThan(3000)
  })

  it('past the last entry: an empty page, through the slot before, nothing more', () => {
    const { log } = sampleLog()
    expect(promisePage(log, sizes, slot(61), 4000)).toEqual({ accepted: [], throughSlot: 60, more: false })
    expect(promisePage(new Log<WriteCommand>([]), sizes, slot(1), 4000)).toEqual({ accepted: [], throughSlot: 0, more: false })
  })
})

describe('catch-up pages', () => {
  it('are consecutive chosen entries within the bound, at least one, and stop at the first unchosen slot', () => {
    const { log, entries } = sampleLog()
    const served: LogEntry<WriteCommand>[] = []
    for (let next = 1; next <= 40;) {
      const page = chosenPage(log, sizes, slot(next), 5000)
      expect(page.length).toBeGreaterThan(0)
      expect(sizes.messageBytes({ type: 'chosen', entries: page }) <= 5000 || page.length === 1).toBe(true)
      served.push(...entries.filter((item) => page.some((chosen) => chosen.slot === item.slot)))
      next = page[page.length - 1]!.slot + 1
    }
    expect(served.map((item) => item.slot)).toEqual(entries.filter((item) => item.chosen).map((item) => item.slot))
    expect(chosenPage(log, sizes, slot(41), 5000)).toEqual([])
  })
})
