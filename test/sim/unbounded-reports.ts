/**
 * The `unbounded-reports` sabotage: a broken node, injected here and not in the core, whose
 * reports ignore the byte bounds, as before they existed: a promise carries the acceptor's whole
 * report (no pages), a catch-up reply every consecutive chosen slot up to catchUpSlotsMax. With
 * large logs such messages are over the bounds; the message-size checker must catch them.
 */
import { assert, limits, slot, type ChosenEntry, type Envelope, type LogEntry, type Slot } from '../../src/core/index.js'
import type { MemoryAcceptorStorage } from '../../src/storage/memory-storage.js'
import type { WriteCommand } from '../../src/kv/command.js'

/** Nothing in the simulator truncates its log, so every read answers entries. */
function entriesFrom(storage: MemoryAcceptorStorage<WriteCommand>, fromSlot: Slot, max: number): readonly LogEntry<WriteCommand>[] {
  const read = storage.log.read(fromSlot, max)
  assert(read.type === 'entries', 'the simulator never compacts its log')
  return read.entries
}

export function unboundedReports(envelopes: readonly Envelope<WriteCommand>[], storage: MemoryAcceptorStorage<WriteCommand>): Envelope<WriteCommand>[] {
  return envelopes.map((envelope) => {
    const message = envelope.message
    if (message.type === 'promise') {
      const accepted = entriesFrom(storage, message.fromSlot, Number.MAX_SAFE_INTEGER)
      const throughSlot = accepted[accepted.length - 1]?.slot ?? slot(Math.max(message.fromSlot, 1) - 1)
      return { ...envelope, message: { ...message, accepted, throughSlot, more: false } }
    }
    if (message.type === 'chosen' && message.entries.length > 0) {
      const entries: ChosenEntry<WriteCommand>[] = []
      for (const entry of entriesFrom(storage, message.entries[0]!.slot, limits.catchUpSlotsMax)) {
        if (!entry.chosen || entry.slot !== message.entries[0]!.slot + entries.length) break
        entries.push({ slot: entry.slot, value: entry.value })
      }
      return { ...envelope, message: { ...message, entries } }
    }
    return envelope
  })
}
