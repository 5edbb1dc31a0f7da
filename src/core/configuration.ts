/**
 * Membership as part of the log (Lamport's "Reconfiguring a State Machine", the α scheme): a
 * configuration entry chosen in slot s governs every slot from s + α on. The leader proposes slot
 * t only once every slot through t − α is chosen, so whoever proposes or counts votes for a slot
 * already knows the configuration that governs it, and every replica agrees on it.
 *
 * A configuration names voters (their accepts and promises count) and learners (they receive the
 * log and vote in nothing). The member URLs ride along for the driver: the core never reads them.
 * @module
 */
import { assert } from './assert.js'
import { slot, slotZero, type NodeId, type Slot } from './ids.js'
import { limits } from './limits.js'
import { majority } from './quorum.js'

export type MemberRole = 'voter' | 'learner'

export type ConfigMember = Readonly<{ id: NodeId; url: string; role: MemberRole }>

/** A log entry that replaces the whole member list (one change at a time is the node's rule). */
export type ConfigEntry = Readonly<{ type: 'config'; members: readonly ConfigMember[] }>

/**
 * A configuration and the slot it was chosen in. Slot 0 is the bootstrap configuration (from
 * --cluster, or from the cluster a node joined): it governs from slot 1.
 */
export type ChosenConfig = Readonly<{ slot: Slot; members: readonly ConfigMember[] }>

/** How far behind a configuration takes effect: at least the pipeline depth (Lamport's α). */
export const configDelaySlots = limits.pipelineSlotsMax

/** The first slot a configuration chosen in `chosenIn` governs. */
export function governsFrom(chosenIn: Slot): Slot {
  return chosenIn === slotZero ? slot(1) : slot(chosenIn + configDelaySlots)
}

/** Checks a member list: distinct ids and URLs, at least one voter, at most nodesMax members. */
export function memberListProblem(members: readonly ConfigMember[]): string | null {
  if (members.length === 0) return 'no members'
  if (members.length > limits.nodesMax) return `more than ${limits.nodesMax} members`
  if (new Set(members.map((member) => member.id)).size !== members.length) return 'a member id is listed twice'
  if (new Set(members.map((member) => member.url)).size !== members.length) return 'two members share a URL'
  if (!members.some((member) => member.role === 'voter')) return 'no voter'
  return null
}

/** Whether two member lists name the same members, roles and URLs, in any order. */
export function sameMembers(a: readonly ConfigMember[], b: readonly ConfigMember[]): boolean {
  if (a.length !== b.length) return false
  const byId = (x: ConfigMember, y: ConfigMember): number => x.id - y.id
  const sorted = [...b].sort(byId)
  return [...a].sort(byId).every((member, index) => member.id === sorted[index]!.id && member.role === sorted[index]!.role && member.url === sorted[index]!.url)
}

/** One configuration in force: its voters and every member, for quorums and for sending. */
export class Configuration {
  readonly chosenIn: Slot
  readonly members: readonly ConfigMember[]
  readonly voters: ReadonlySet<NodeId>
  readonly quorum: number

  constructor(chosen: ChosenConfig) {
    const problem = memberListProblem(chosen.members)
    assert(problem === null, `configuration chosen in ${chosen.slot}: ${problem}`)
    this.chosenIn = chosen.slot
    this.members = [...chosen.members].sort((a, b) => a.id - b.id)
    this.voters = new Set(this.members.filter((member) => member.role === 'voter').map((member) => member.id))
    this.quorum = majority(this.voters.size)
  }

  get governsFrom(): Slot {
    return governsFrom(this.chosenIn)
  }

  isVoter(id: NodeId): boolean {
    return this.voters.has(id)
  }

  isMember(id: NodeId): boolean {
    return this.members.some((member) => member.id === id)
  }

  /** Whether `voters` (any ids) hold a majority of this configuration's voters. */
  hasQuorum(voters: Iterable<NodeId>): boolean {
    let count = 0
    for (const voter of voters) if (this.voters.has(voter)) count += 1
    return count >= this.quorum
  }
}

/**
 * The configurations a replica knows, oldest first: the one in force at its commit index and any
 * chosen later. Bounded: those no slot above the commit index can be governed by are forgotten.
 */
export class Configurations {
  #list: Configuration[]
  /**
   * The last `membersFrom` answer, for the configuration it started at: the leader asks on every
   * accept and heartbeat it sends, and the answer changes only with the list.
   */
  #members: Readonly<{ first: Configuration; ids: NodeId[] }> | null = null

  constructor(chosen: readonly ChosenConfig[]) {
    assert(chosen.length > 0, 'a replica needs a configuration')
    this.#list = [...chosen].sort((a, b) => a.slot - b.slot).map((config) => new Configuration(config))
  }

  /** The configuration that governs slot `at`. */
  at(at: Slot): Configuration {
    let found = this.#list[0]!
    for (const config of this.#list) if (config.governsFrom <= at) found = config
    return found
  }

  /** Every configuration that governs some slot at or above `from`, oldest first. */
  from(from: Slot): Configuration[] {
    const first = this.at(from)
    return this.#list.filter((config) => config.chosenIn >= first.chosenIn)
  }

  /**
   * Whether every configuration that governs slots from `from` on is known: false for a node
   * that joined while its log is still behind the configuration it joined with (it may not
   * campaign until then: it could count the wrong voters for the slots in between).
   */
  complete(from: Slot): boolean {
    return from >= this.#list[0]!.governsFrom || this.#list[0]!.chosenIn === slotZero
  }

  /** The newest configuration chosen (perhaps not yet in force). */
  get newest(): Configuration {
    return this.#list[this.#list.length - 1]!
  }

  /**
   * Records the configuration chosen in `chosenIn`; a repeat of one already known changes
   * nothing. So does one older than the oldest known: a node that joined starts from the
   * cluster's configuration of then, and meets older ones as it catches up (see `complete`).
   */
  add(chosen: ChosenConfig): boolean {
    if (this.#list.some((config) => config.chosenIn === chosen.slot) || chosen.slot < this.#list[0]!.chosenIn) return false
    assert(chosen.slot > this.newest.chosenIn, `configuration chosen in ${chosen.slot} arrives after one chosen in ${this.newest.chosenIn}`)
    this.#list.push(new Configuration(chosen))
    this.#members = null
    return true
  }

  /** Forgets configurations superseded for every slot after `committedThrough`. */
  prune(committedThrough: Slot): void {
    const keepFrom = this.#list.indexOf(this.at(slot(committedThrough + 1)))
    if (keepFrom > 0) this.#list = this.#list.slice(keepFrom)
    if (keepFrom > 0) this.#members = null
  }

  /** Replaces what is known by a snapshot's list (an install). */
  reset(chosen: readonly ChosenConfig[]): void {
    assert(chosen.length > 0, 'a snapshot needs a configuration')
    this.#list = [...chosen].sort((a, b) => a.slot - b.slot).map((config) => new Configuration(config))
    this.#members = null
  }

  /** Every member of the configurations that govern slots from `from` on (send targets). */
  membersFrom(from: Slot): readonly NodeId[] {
    const first = this.at(from)
    if (this.#members?.first === first) return this.#members.ids
    const ids = new Set<NodeId>()
    for (const config of this.from(from)) for (const member of config.members) ids.add(member.id)
    this.#members = { first, ids: [...ids].sort((a, b) => a - b) }
    return this.#members.ids
  }

  list(): ChosenConfig[] {
    return this.#list.map((config) => ({ slot: config.chosenIn, members: config.members }))
  }
}
