/**
 * Goal: one AcceptorStorage contract, run by every implementation: it starts empty, what is
 * persisted is what loads back (after a reopen, for durable ones), later writes for a slot win,
 * a slot marked chosen later stays chosen, `promised: null` keeps the promise, and the promise
 * never goes backwards (an assertion: the core never asks for it), and log truncation leaves it.
 * Method: memory-storage.test.ts and sqlite-storage.test.ts call runAcceptorStorageContract.
 */
import { describe, expect, it } from 'vitest'
import { AssertionError, ballotZero, noopValue, nodeId, slot, type Value } from '../../src/core/index.js'
import type { AcceptorStorage } from '../../src/storage/acceptor-storage.js'
import type { WriteCommand } from '../../src/kv/command.js'

const b = (round: number, node: number) => ({ round, node: nodeId(node) })
const value = (key: string): Value<WriteCommand> => [{ type: 'put', proposal: `p-${key}`, key, value: 'dg==', cas: null, idempotency: null }]

/** `open` returns a storage; `reopen` the same storage as a restarted process would see it. */
export function runAcceptorStorageContract(name: string, open: () => { storage: AcceptorStorage<WriteCommand>; reopen: () => AcceptorStorage<WriteCommand> }): void {
  describe(`${name}: AcceptorStorage contract`, () => {
    it('starts empty', () => {
      expect(open().storage.load()).toEqual({ promised: ballotZero, entries: [] })
    })

    it('loads what was persisted, after a reopen', () => {
      const { storage, reopen } = open()
      storage.persist({ promised: b(2, 3), entries: [{ slot: slot(1), ballot: b(2, 3), value: value('a'), chosen: false }] })
      storage.persist({ promised: null, entries: [{ slot: slot(3), ballot: b(2, 3), value: noopValue, chosen: true }] })
      storage.close()
      expect(reopen().load()).toEqual({
        promised: b(2, 3),
        entries: [
          { slot: 1, ballot: b(2, 3), value: value('a'), chosen: false },
          { slot: 3, ballot: b(2, 3), value: noopValue, chosen: true },
        ],
      })
    })

    it('a later entry for a slot replaces the earlier one, and chosen stays', () => {
      const { storage, reopen } = open()
      storage.persist({ promised: b(1, 1), entries: [{ slot: slot(1), ballot: b(1, 1), value: value('old'), chosen: false }] })
      storage.persist({ promised: b(2, 2), entries: [{ slot: slot(1), ballot: b(2, 2), value: value('new'), chosen: true }] })
      storage.close()
      expect(reopen().load().entries).toEqual([{ slot: 1, ballot: b(2, 2), value: value('new'), chosen: true }])
    })

    it('a slot marked chosen after its accept stays chosen, and an unchanged promise stays', () => {
      const { storage, reopen } = open()
      const entry = { slot: slot(4), ballot: b(3, 1), value: value('c'), chosen: false }
      storage.persist({ promised: b(3, 1), entries: [entry] })
      storage.persist({ promised: null, entries: [{ ...entry, chosen: true }] })
      storage.persist({ promised: b(3, 1), entries: [] }) // the same candidate asking again
      storage.close()
      expect(reopen().load()).toEqual({ promised: b(3, 1), entries: [{ ...entry, chosen: true }] })
    })

    it('truncating the log keeps the promise, and load returns only the entries above the compaction point', () => {
      const { storage, reopen } = open()
      const entries = [1, 2, 3, 4].map((at) => ({ slot: slot(at), ballot: b(3, 2), value: noopValue, chosen: at <= 3 }))
      storage.persist({ promised: b(4, 1), entries })
      storage.log.truncatePrefix(slot(2))
      storage.close()
      const again = reopen()
      expect(again.load()).toEqual({ promised: b(4, 1), entries: entries.slice(2) })
      expect(again.loadFrom(slot(1)).entries).toEqual(entries.slice(2))
      expect(again.loadFrom(slot(4)).entries).toEqual(entries.slice(3))
    })

    it('refuses a promise that goes backwards, and keeps the higher one', () => {
      const { storage, reopen } = open()
      storage.persist({ promised: b(5, 2), entries: [] })
      expect(() => storage.persist({ promised: b(4, 3), entries: [] })).toThrow(AssertionError)
      expect(() => storage.persist({ promised: b(5, 1), entries: [] })).toThrow(/never decrease/)
      storage.close()
      expect(reopen().load().promised).toEqual(b(5, 2))
    })
  })
}
