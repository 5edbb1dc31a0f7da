/**
 * Goal: one LogStore contract, run by every implementation: it starts empty; what is appended
 * reads back in slot order (after a reopen, for durable ones) and a later entry for a slot wins;
 * a truncated prefix answers "compacted through S" for every range that reaches into it, never
 * an empty list that reads as "nothing accepted"; the compaction point survives a reopen, never
 * goes backwards, may pass the highest slot (a snapshot install), and refuses appends below it.
 * Method: memory-log-store.test.ts and sqlite-log-store.test.ts call runLogStoreContract.
 */
import { describe, expect, it } from 'vitest'
import { AssertionError, noopValue, nodeId, slot, type LogEntry, type Value } from '../../src/core/index.js'
import type { LogStore } from '../../src/storage/log-store.js'
import type { WriteCommand } from '../../src/kv/command.js'

const ballot = { round: 2, node: nodeId(1) }
const value = (key: string): Value<WriteCommand> => [{ type: 'put', proposal: `p-${key}`, key, value: 'dg==', cas: null, idempotency: null }]
const entry = (at: number, chosen = true, v: Value<WriteCommand> = noopValue): LogEntry<WriteCommand> => ({ slot: slot(at), ballot, value: v, chosen })
const slotsOf = (read: ReturnType<LogStore<WriteCommand>['read']>) => (read.type === 'entries' ? read.entries.map((e) => e.slot) : read)

/** `open` returns a store; `reopen` the same store as a restarted process would see it. */
export function runLogStoreContract(name: string, open: () => { log: LogStore<WriteCommand>; close: () => void; reopen: () => LogStore<WriteCommand> }): void {
  describe(`${name}: LogStore contract`, () => {
    it('starts empty', () => {
      const { log } = open()
      expect(log.compactedThrough()).toBe(0)
      expect(log.lastSlot()).toBe(0)
      expect(log.read(slot(1), 10)).toEqual({ type: 'entries', entries: [] })
    })

    it('reads back what was appended, in slot order with a limit, after a reopen; a later entry for a slot wins', () => {
      const { log, close, reopen } = open()
      const later = { round: 3, node: nodeId(2) }
      log.append([entry(5), entry(2, false, value('old')), entry(9, false), entry(4, false, value('four'))])
      // Slot 2 accepted again in a later ballot; slot 4 becomes chosen in the ballot it was
      // accepted in (one value per slot per ballot, so the store may only flip the flag).
      log.append([entry(3), { ...entry(2, true, value('new')), ballot: later }, entry(4, true, value('four'))])
      close()
      const again = reopen()
      expect(slotsOf(again.read(slot(3), 2))).toEqual([3, 4])
      expect(again.read(slot(1), Number.POSITIVE_INFINITY)).toEqual({
        type: 'entries',
        entries: [{ ...entry(2, true, value('new')), ballot: later }, entry(3), entry(4, true, value('four')), entry(5), entry(9, false)],
      })
      expect(again.lastSlot()).toBe(9)
    })

    it('a truncated prefix answers compacted through S for any range reaching into it, and keeps the tail', () => {
      const { log, close, reopen } = open()
      log.append([1, 2, 3, 4, 5, 6].map((at) => entry(at)))
      log.append([entry(7, false)])
      log.truncatePrefix(slot(4))
      for (const from of [1, 3, 4]) expect(log.read(slot(from), 100)).toEqual({ type: 'compacted', through: 4 })
      expect(slotsOf(log.read(slot(5), 100))).toEqual([5, 6, 7])
      close()
      const again = reopen()
      expect(again.compactedThrough()).toBe(4)
      expect(again.read(slot(2), 1)).toEqual({ type: 'compacted', through: 4 })
      expect(slotsOf(again.read(slot(5), 100))).toEqual([5, 6, 7])
      expect(again.lastSlot()).toBe(7)
    })

    it('never goes backwards: truncating less than before changes nothing', () => {
      const { log } = open()
      log.append([1, 2, 3, 4].map((at) => entry(at)))
      log.truncatePrefix(slot(3))
      log.truncatePrefix(slot(1))
      expect(log.compactedThrough()).toBe(3)
      expect(log.read(slot(2), 10)).toEqual({ type: 'compacted', through: 3 })
      expect(slotsOf(log.read(slot(4), 10))).toEqual([4])
    })

    it('may truncate past the highest slot (a snapshot install), and then takes appends above it only', () => {
      const { log, close, reopen } = open()
      log.append([entry(1), entry(2, false)])
      log.truncatePrefix(slot(40))
      expect(log.lastSlot()).toBe(40)
      // Nothing is stored at all, and still the answer below S is "compacted", not "empty".
      expect(log.read(slot(1), 10)).toEqual({ type: 'compacted', through: 40 })
      expect(log.read(slot(41), 10)).toEqual({ type: 'entries', entries: [] })
      expect(() => log.append([entry(40)])).toThrow(AssertionError)
      log.append([entry(41, false)])
      close()
      const again = reopen()
      expect(again.read(slot(40), 10)).toEqual({ type: 'compacted', through: 40 })
      expect(slotsOf(again.read(slot(41), 10))).toEqual([41])
    })

    it('stores every kind of command as it is: a txn and lease commands read back after a reopen', () => {
      const { log, close, reopen } = open()
      const proposal = { proposal: 'p', idempotency: null }
      const kinds: Value<WriteCommand> = [
        { type: 'txn', compare: [{ key: 'a', target: 'version', op: '=', value: 0 }], success: [{ type: 'put', key: 'a', value: 'dg==', lease: null }], failure: [{ type: 'get', key: 'a' }], ...proposal },
        { type: 'lease-grant', id: '7', ttlSeconds: 5, ...proposal },
        { type: 'lease-revoke', id: '7', ...proposal },
        { type: 'delete', key: 'b', cas: null, ...proposal },
      ]
      log.append([entry(1, true, kinds)])
      close()
      expect(reopen().read(slot(1), 1)).toEqual({ type: 'entries', entries: [entry(1, true, kinds)] })
    })
  })
}
