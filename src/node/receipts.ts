/**
 * Consensus receipts: for recent slots, what this node saw of them as leader (the ballot and
 * quorum that chose them, and when) and as acceptor (how long its own WAL sync of the accepted
 * value took). A write's receipt is read when its slot is applied; the table is bounded and
 * forgets the oldest slots first.
 * @module
 */
import type { Ballot } from '../core/ballot.js'
import { compareBallots } from '../core/ballot.js'
import type { CoreEvent } from '../core/events.js'
import { slot, type NodeId, type Slot } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { LogEntry } from '../core/messages.js'
import type { Receipt } from '../server/node-service.js'
import type { WriteCommand } from '../kv/command.js'


type SlotRecord = {
  /** The ballot of the accepted value this node's acceptor persisted. */
  acceptedBallot: Ballot | null
  persistedAtMs: number | null
  fsyncMs: number | null
  chosen: Readonly<{ ballot: Ballot; quorum: readonly NodeId[]; atMs: number }> | null
}

type ChosenEvent = Extract<CoreEvent, { type: 'slots-chosen' }>

export class Receipts {
  readonly #self: NodeId
  readonly #slotsMax: number
  readonly #slots = new Map<Slot, SlotRecord>()

  constructor(self: NodeId, slotsMax: number = limits.receiptSlotsMax) {
    this.#self = self
    this.#slotsMax = slotsMax
  }

  /** This node's acceptor wrote these entries in a turn committed at `atMs`. */
  persisted(entries: readonly LogEntry<WriteCommand>[], atMs: number): void {
    for (const entry of entries) {
      const record = this.#record(entry.slot)
      // A chosen mark rewrites the same accepted value: its sync is not the accept's.
      if (record.acceptedBallot !== null && compareBallots(record.acceptedBallot, entry.ballot) === 0) continue
      record.acceptedBallot = entry.ballot
      record.persistedAtMs = atMs
      record.fsyncMs = null
    }
  }

  /** The turn that persisted `entries` is on disk at `atMs`. */
  synced(entries: readonly LogEntry<WriteCommand>[], atMs: number): void {
    for (const entry of entries) {
      const record = this.#slots.get(entry.slot)
      if (record === undefined || record.persistedAtMs === null || record.fsyncMs !== null) continue
      record.fsyncMs = atMs - record.persistedAtMs
    }
  }

  chosen(event: ChosenEvent, atMs: number): void {
    for (let at = event.firstSlot; at <= event.lastSlot; at = slot(at + 1)) {
      this.#record(at).chosen = { ballot: event.ballot, quorum: event.quorum, atMs }
    }
  }

  /** The receipt of a write proposed here at `proposedAtMs` and applied in `at`. */
  receipt(at: Slot, proposedAtMs: number): Receipt {
    const record = this.#slots.get(at)
    const chosen = record?.chosen ?? null
    return {
      slot: at,
      ballot: chosen?.ballot ?? null,
      leader: chosen === null ? null : this.#self,
      quorum: chosen?.quorum ?? null,
      commitMs: chosen === null ? null : Math.max(0, chosen.atMs - proposedAtMs),
      fsyncMs: record?.fsyncMs ?? null,
    }
  }

  get size(): number {
    return this.#slots.size
  }

  #record(at: Slot): SlotRecord {
    let record = this.#slots.get(at)
    if (record !== undefined) return record
    record = { acceptedBallot: null, persistedAtMs: null, fsyncMs: null, chosen: null }
    this.#slots.set(at, record)
    // Maps iterate in insertion order: the first key is the oldest slot recorded.
    if (this.#slots.size > this.#slotsMax) this.#slots.delete(this.#slots.keys().next().value!)
    return record
  }
}
