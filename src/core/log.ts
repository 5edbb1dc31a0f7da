/**
 * The replica's log: one acceptor record per slot, plus the chosen flag once learned. The
 * acceptor writes accepted values here; the learner marks entries chosen. Applied entries older
 * than a retention window leave memory and are read back from the archive when needed. Slots
 * up to the compaction point are gone everywhere: they are chosen and covered by a durable
 * snapshot, so no read below it may answer (a missing entry there would read as "nothing
 * accepted"); callers ask `isCompacted` first, and the log asserts they did.
 * @module
 */
import { assert } from './assert.js'
import type { AppCommand, Value } from './command.js'
import { slot, slotZero, type Slot } from './ids.js'
import type { ChosenEntry, LogEntry } from './messages.js'
import type { LogArchive } from './replica-port.js'

export class Log<C extends AppCommand> {
  readonly #entries = new Map<Slot, LogEntry<C>>()
  readonly #archive: LogArchive<C> | null
  #highestSlot: Slot = slotZero
  /** Invariant: every slot up to here is chosen, applied and persisted, and not in memory. */
  #trimmedThrough: Slot = slotZero
  /** Invariant: every slot up to here is chosen and in the snapshot only; <= #trimmedThrough. */
  #compactedThrough: Slot = slotZero

  /**
   * `archivedThrough`: slots up to here are chosen, applied and in the archive only (a restart
   * from a snapshot loads just the entries above it); needs an archive. `compactedThrough`
   * (at most `archivedThrough` when there is an archive): slots up to here are gone from the
   * archive too, and covered by a durable snapshot.
   */
  constructor(entries: readonly LogEntry<C>[], archive: LogArchive<C> | null = null, archivedThrough: Slot = slotZero, compactedThrough: Slot = slotZero) {
    assert(archive !== null || archivedThrough === slotZero, 'archived slots need an archive')
    this.#archive = archive
    this.#trimmedThrough = archivedThrough
    this.#highestSlot = archivedThrough
    this.compact(compactedThrough)
    for (const entry of entries) this.set(entry)
  }

  get compactedThrough(): Slot {
    return this.#compactedThrough
  }

  isCompacted(at: Slot): boolean {
    return at <= this.#compactedThrough
  }

  /** Chosen and applied (a snapshot or the archive holds it): never written again. */
  isApplied(at: Slot): boolean {
    return at <= this.#trimmedThrough
  }

  /**
   * Forgets every slot through `through`: the driver truncated the log store behind a durable
   * snapshot, or installed a snapshot that covers them. Never goes backwards.
   */
  compact(through: Slot): void {
    if (through <= this.#compactedThrough) return
    for (const at of [...this.#entries.keys()]) if (at <= through) this.#entries.delete(at)
    this.#compactedThrough = through
    if (through > this.#trimmedThrough) this.#trimmedThrough = through
    if (through > this.#highestSlot) this.#highestSlot = through
  }

  get(at: Slot): LogEntry<C> | undefined {
    assert(at > this.#compactedThrough, `slot ${at} is compacted through ${this.#compactedThrough}: ask isCompacted first`)
    if (at <= this.#trimmedThrough) return this.#archived(at, 1)[0]
    return this.#entries.get(at)
  }

  set(entry: LogEntry<C>): void {
    assert(entry.slot > this.#trimmedThrough, `slot ${entry.slot} is trimmed: it is chosen and applied`)
    assert(entry.value.length > 0, `slot ${entry.slot}: empty value`)
    const previous = this.#entries.get(entry.slot)
    assert(!(previous?.chosen === true && !entry.chosen), `slot ${entry.slot}: chosen entries stay chosen`)
    this.#entries.set(entry.slot, entry)
    if (entry.slot > this.#highestSlot) this.#highestSlot = entry.slot
  }

  get highestSlot(): Slot {
    return this.#highestSlot
  }

  /** Entries at or above `fromSlot`, in slot order, at most `max` (a promise's report). */
  entriesFrom(fromSlot: Slot, max: number): LogEntry<C>[] {
    assert(fromSlot > this.#compactedThrough, `entries from ${fromSlot} are compacted through ${this.#compactedThrough}`)
    const result: LogEntry<C>[] = fromSlot <= this.#trimmedThrough ? [...this.#archived(fromSlot, Math.min(max, this.#trimmedThrough - fromSlot + 1))] : []
    const start = Math.max(fromSlot, this.#trimmedThrough + 1)
    for (let at = start; at <= this.#highestSlot && result.length < max; at += 1) {
      const entry = this.#entries.get(at as Slot)
      if (entry !== undefined) result.push(entry)
    }
    return result
  }

  /** Chosen entries from `fromSlot`, consecutive, at most `max` (a catch-up reply or an apply batch). */
  chosenRun(fromSlot: Slot, max: number): ChosenEntry<C>[] {
    assert(fromSlot > this.#compactedThrough, `chosen entries from ${fromSlot} are compacted through ${this.#compactedThrough}`)
    const result: ChosenEntry<C>[] = []
    if (fromSlot <= this.#trimmedThrough) {
      for (const entry of this.#archived(fromSlot, Math.min(max, this.#trimmedThrough - fromSlot + 1))) {
        if (entry.slot !== fromSlot + result.length || !entry.chosen) return result
        result.push({ slot: entry.slot, value: entry.value })
      }
    }
    for (let at = slot(fromSlot + result.length); result.length < max; at = slot(at + 1)) {
      const entry = this.#entries.get(at)
      if (entry === undefined || !entry.chosen) break
      result.push({ slot: at, value: entry.value })
    }
    return result
  }

  /** The highest slot s >= `from` such that every slot in (from, s] is chosen. */
  chosenThrough(from: Slot): Slot {
    let through = from > this.#compactedThrough ? from : this.#compactedThrough
    while (this.get(slot(through + 1))?.chosen === true) through = slot(through + 1)
    return through
  }

  /** Drops entries up to `appliedIndex - retain` from memory; a no-op without an archive. */
  trim(appliedIndex: Slot, retain: number): void {
    if (this.#archive === null || appliedIndex - this.#trimmedThrough < 2 * retain) return
    const through = slot(appliedIndex - retain)
    for (let at = this.#trimmedThrough + 1; at <= through; at += 1) {
      const entry = this.#entries.get(at as Slot)
      assert(entry?.chosen === true, `trimming slot ${at}, which is not chosen`)
      this.#entries.delete(at as Slot)
    }
    this.#trimmedThrough = through
  }

  #archived(fromSlot: Slot, max: number): readonly LogEntry<C>[] {
    assert(this.#archive !== null, 'trimmed entries need an archive')
    const read = this.#archive.read(fromSlot, max)
    // The driver tells the log (compact) in the same turn as it truncates the archive.
    assert(read.type === 'entries', `slot ${fromSlot} is compacted in the archive through ${read.type === 'compacted' ? read.through : 0}, beyond the log's ${this.#compactedThrough}`)
    return read.entries
  }
}

/** Values are compared only on the rare path where a chosen slot meets another proposal. */
export function sameValue<C extends AppCommand>(a: Value<C>, b: Value<C>): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b)
}
