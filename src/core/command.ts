/**
 * What rides in the log, as far as the core knows. A slot's value is a batch of entries chosen
 * together: the application's commands, opaque here, and the core's own entries (a noop fills a
 * gap). The core never looks inside a command: it asks the injected `CommandPort` for what it
 * needs (a size for the byte bounds, a proposal id to report a dropped one).
 * @module
 */
import type { ConfigEntry } from './configuration.js'
import type { NodeId } from './ids.js'

/** Unique per proposing node incarnation; lets the proposer match an applied command to its client. */
export type ProposalId = string

/** Fills a slot that must be decided but has nothing to carry (a gap a new leader closes). */
export type NoopEntry = Readonly<{ type: 'noop' }>

/**
 * The core's own entries, told apart from commands by `type`: a noop, and a configuration (the
 * member list, src/core/configuration.ts). An application's commands must never use these tags
 * (src/kv checks that at compile time).
 */
export type CoreEntry = NoopEntry | ConfigEntry

const coreEntryTypes: ReadonlySet<string> = new Set<CoreEntry['type']>(['noop', 'config'])

/** The command shape the core can carry: any object tagged with a `type` outside CoreEntry's. */
export type AppCommand = Readonly<{ type: string }>

export type Entry<C extends AppCommand> = CoreEntry | C

/** A slot's value. Invariant: non-empty. */
export type Value<C extends AppCommand> = readonly Entry<C>[]

const noopEntry: NoopEntry = Object.freeze({ type: 'noop' })

/** The value of a slot that carries nothing; a value of every command type. */
export const noopValue: Value<never> = Object.freeze([noopEntry])

export function isCoreEntry<C extends AppCommand>(entry: Entry<C>): entry is CoreEntry {
  return coreEntryTypes.has(entry.type)
}

/** The bytes a noop entry adds to a value's estimate (`{"type":"noop"}` is 15). */
const noopBytes = 16

/** What the core needs to know about the application's commands. Pure and synchronous. */
export interface CommandPort<C extends AppCommand> {
  /**
   * An upper bound of the command's encoded size in UTF-8 bytes of its JSON: the byte bounds on
   * slots and messages are enforced on it (the application tests that it is an upper bound).
   */
  bytes(command: C): number
  /** The proposal the command belongs to: reported in Ready.dropped when it never gets a slot. */
  proposal(command: C): ProposalId
}

/** The estimated bytes of one entry of a value, the core's own or a command. */
export function entryValueBytes<C extends AppCommand>(commands: CommandPort<C>, entry: Entry<C>): number {
  if (!isCoreEntry(entry)) return commands.bytes(entry)
  // A UTF-16 unit is at most 3 UTF-8 bytes: an upper bound of the JSON's size.
  return entry.type === 'noop' ? noopBytes : 3 * JSON.stringify(entry).length
}

/** The configuration entries of a value (at most one in practice). */
export function configEntries<C extends AppCommand>(value: Value<C>): ConfigEntry[] {
  const found: ConfigEntry[] = []
  for (const entry of value) if (entry.type === 'config' && isCoreEntry(entry)) found.push(entry as ConfigEntry)
  return found
}

export type ProposeResult =
  | Readonly<{ type: 'proposed' }>
  | Readonly<{ type: 'not_leader'; leader: NodeId | null }>
  | Readonly<{ type: 'overloaded' }>
