/**
 * Reading the log in pages that fit one message: a promise's report and a catch-up reply.
 * The log is read a few entries at a time, so a page of large values never loads more than
 * it sends (trimmed entries come from the on-disk archive).
 * @module
 */
import { slot, type Slot } from './ids.js'
import { limits, messageOverheadBytes } from './limits.js'
import type { Log } from './log.js'
import type { AppCommand } from './command.js'
import type { MessageSizes } from './message-size.js'
import type { ChosenEntry, LogEntry } from './messages.js'

/** Entries read from the log at a time while filling a page. */
const readSlotsMax = 16

export type PromisePage<C extends AppCommand> = Readonly<{ accepted: LogEntry<C>[]; throughSlot: Slot; more: boolean; compactedThrough?: Slot }>

/**
 * Every accepted entry from `fromSlot` on, up to `bytesMax` (estimated, the message included)
 * and `promisePageSlotsMax` entries, and where the page ends. At least one entry when any
 * exists, so a candidate paging through a report always moves forward.
 */
export function promisePage<C extends AppCommand>(log: Log<C>, sizes: MessageSizes<C>, fromSlot: Slot, bytesMax: number): PromisePage<C> {
  // Compacted slots are chosen: the page says so and ends there, rather than listing nothing.
  const compacted = log.compactedThrough
  if (fromSlot <= compacted) return { accepted: [], throughSlot: compacted, more: log.highestSlot > compacted, compactedThrough: compacted }
  const accepted: LogEntry<C>[] = []
  const cut = fill(sizes, accepted, bytesMax, limits.promisePageSlotsMax, (next, max) => log.entriesFrom(next, max), fromSlot)
  const last = accepted[accepted.length - 1]
  const throughSlot = last?.slot ?? slot(Math.max(fromSlot, 1) - 1)
  // `highestSlot` only grows (trimmed entries stay in the archive), so this is exact.
  return { accepted, throughSlot, more: cut || log.highestSlot > throughSlot }
}

/** Consecutive chosen entries from `fromSlot`, up to `bytesMax` and `catchUpSlotsMax`. */
export function chosenPage<C extends AppCommand>(log: Log<C>, sizes: MessageSizes<C>, fromSlot: Slot, bytesMax: number): ChosenEntry<C>[] {
  const entries: ChosenEntry<C>[] = []
  fill(sizes, entries, bytesMax, limits.catchUpSlotsMax, (next, max) => log.chosenRun(next, max), fromSlot)
  return entries
}

/**
 * Appends what `read` returns, a few entries at a time, while it fits. Returns whether it
 * stopped because the next entry did not fit (rather than for lack of entries).
 */
function fill<C extends AppCommand, T extends LogEntry<C> | ChosenEntry<C>>(sizes: MessageSizes<C>, page: T[], bytesMax: number, countMax: number, read: (from: Slot, max: number) => readonly T[], fromSlot: Slot): boolean {
  let bytes = messageOverheadBytes
  let next = fromSlot
  while (page.length < countMax) {
    const want = Math.min(readSlotsMax, countMax - page.length)
    const chunk = read(next, want)
    for (const entry of chunk) {
      const size = sizes.entryBytes(entry) + 1
      if (page.length > 0 && bytes + size > bytesMax) return true
      page.push(entry)
      bytes += size
    }
    const last = chunk[chunk.length - 1]
    if (last === undefined || chunk.length < want) return false
    next = slot(last.slot + 1)
  }
  return page.length === countMax
}
