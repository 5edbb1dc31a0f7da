/**
 * The replicated state machine over any KvStore: applies chosen slots in order, exactly once.
 * @module
 */
import { assert } from '../core/assert.js'
import { slot, type Revision, type Slot } from '../core/ids.js'
import type { ChosenEntry } from '../core/messages.js'
import { applyWrite, checkApplyWriteOptions, defaultApplyWriteOptions, type ApplyWriteOptions } from './kv.js'
import type { KvStore } from './kv-store.js'
import type { AppliedWrite, KvItem, StateMachine } from './state-machine.js'

export type KvStateMachineOptions = Partial<ApplyWriteOptions>

export class KvStateMachine implements StateMachine {
  readonly #store: KvStore
  readonly #options: ApplyWriteOptions

  /** `options` exist for tests; every replica of a cluster must run with the same values. */
  constructor(store: KvStore, options: KvStateMachineOptions = {}) {
    this.#store = store
    this.#options = { ...defaultApplyWriteOptions, ...options }
    checkApplyWriteOptions(this.#options)
  }

  /** Invariant: slots are applied once each, in order; position moves with the data. */
  apply(entries: readonly ChosenEntry[]): readonly AppliedWrite[] {
    return this.#store.transaction(() => {
      const results: AppliedWrite[] = []
      let { appliedIndex, revision } = this.#store.position()
      for (const entry of entries) {
        assert(entry.slot === appliedIndex + 1, `apply slot ${entry.slot} after ${appliedIndex}: gap or repeat`)
        assert(entry.value.length > 0, `slot ${entry.slot} has an empty batch`)
        for (const command of entry.value) {
          if (command.type === 'noop') continue
          const outcome = applyWrite(this.#store, command, revision, this.#options)
          revision = outcome.revision
          results.push({ proposal: command.proposal, slot: entry.slot, result: outcome.result })
        }
        appliedIndex = slot(entry.slot)
      }
      this.#store.setPosition(appliedIndex, revision)
      return results
    })
  }

  appliedIndex(): Slot {
    return this.#store.position().appliedIndex
  }

  revision(): Revision {
    return this.#store.position().revision
  }

  get(key: string): KvItem | null {
    const stored = this.#store.get(key)
    return stored === null ? null : { key, value: stored.value, version: stored.version }
  }

  range(prefix: string, limit: number): Readonly<{ items: readonly KvItem[]; more: boolean }> {
    return this.#store.range(prefix, limit)
  }

  close(): void {
    this.#store.close()
  }
}
