/**
 * Membership changes in the fault schedule, proposed on the leader as `paxos-kv member` does:
 * remove a voter (the leader too), add a removed node back as a learner (half the time on a
 * replaced, empty disk, joining as `serve --join` does), promote a learner once the leader says
 * it caught up. One change at a time. In the liveness phase every node is made a voter again,
 * so the cluster converges as a whole.
 */
import { randomBelow, randomChance, type ChosenConfig, type ConfigMember, type MembershipView, type NodeId, type Random } from '../../src/core/index.js'

export interface ReconfigCluster {
  ids(): readonly NodeId[]
  /** The leader's membership view and caught-up test, or null when no node leads. */
  leader(): Readonly<{ id: NodeId; view: MembershipView; settled: boolean; caughtUp: (id: NodeId) => boolean; propose: (members: readonly ConfigMember[]) => boolean }> | null
  /** The removed node `id` gets a new, empty disk and joins with `config` (it is restarted). */
  replaceDisk(id: NodeId, config: ChosenConfig): void
  trace(line: string): void
}

const url = (id: NodeId): string => `node:${id}`
/** A proposal that shows no effect in this long is given up (its leader may have changed). */
const pendingTicksMax = 300

export class SimReconfig {
  readonly #random: Random
  readonly #perMille: number
  #pending: Readonly<{ since: number; configSlot: number; wipe: NodeId | null; members: readonly ConfigMember[] }> | null = null
  changes = 0
  replacedDisks = 0

  constructor(random: Random, perMille: number) {
    this.#random = random
    this.#perMille = perMille
  }

  /** Safety phase: now and then, one change. */
  step(cluster: ReconfigCluster, now: number): void {
    if (!this.#settled(cluster, now) || this.#perMille === 0 || !randomChance(this.#random, this.#perMille, 1000)) return
    const leader = cluster.leader()
    // As the operator does: the next change (and a disk replaced) only once the last one settled.
    if (leader === null || !leader.settled) return
    const members = leader.view.members
    const learners = members.filter((member) => member.role === 'learner')
    const missing = cluster.ids().filter((id) => !members.some((member) => member.id === id))
    const voters = members.filter((member) => member.role === 'voter')
    if (learners.length > 0) {
      const learner = learners[randomBelow(this.#random, learners.length)]!
      if (leader.caughtUp(learner.id)) this.#propose(cluster, now, `promote ${learner.id}`, members.map((member) => (member.id === learner.id ? { ...member, role: 'voter' } : member)), null)
    } else if (missing.length > 0) {
      const id = missing[randomBelow(this.#random, missing.length)]!
      const wipe = randomChance(this.#random, 1, 2) ? id : null
      this.#propose(cluster, now, `add ${id} as a learner${wipe === null ? '' : ' on a replaced disk'}`, [...members, { id, url: url(id), role: 'learner' }], wipe)
    } else if (voters.length > 2) {
      const removed = voters[randomBelow(this.#random, voters.length)]!
      this.#propose(cluster, now, `remove ${removed.id}${removed.id === leader.id ? ' (the leader)' : ''}`, members.filter((member) => member.id !== removed.id), null)
    }
  }

  /** Liveness phase: back to every node a voter. Returns whether that holds and is in force. */
  restore(cluster: ReconfigCluster, now: number): boolean {
    const leader = cluster.leader()
    if (leader === null) return false
    const members = leader.view.members
    const complete = cluster.ids().every((id) => members.some((member) => member.id === id && member.role === 'voter'))
    if (complete && leader.view.inForce) return true
    if (!this.#settled(cluster, now) || !leader.settled) return false
    const missing = cluster.ids().find((id) => !members.some((member) => member.id === id))
    if (missing !== undefined) {
      this.#propose(cluster, now, `add ${missing} back as a learner`, [...members, { id: missing, url: url(missing), role: 'learner' }], null)
      return false
    }
    const learner = members.find((member) => member.role === 'learner' && leader.caughtUp(member.id))
    if (learner !== undefined) this.#propose(cluster, now, `promote ${learner.id}`, members.map((member) => (member.id === learner.id ? { ...member, role: 'voter' } : member)), null)
    return false
  }

  #propose(cluster: ReconfigCluster, now: number, what: string, members: readonly ConfigMember[], wipe: NodeId | null): void {
    const leader = cluster.leader()!
    if (!leader.propose(members)) return
    cluster.trace(`reconfig: node ${leader.id} proposes: ${what}`)
    this.#pending = { since: now, configSlot: leader.view.configSlot, wipe, members }
  }

  /** Whether no change is pending; a chosen one (with its replaced disk, if any) settles here. */
  #settled(cluster: ReconfigCluster, now: number): boolean {
    const pending = this.#pending
    if (pending === null) return true
    const leader = cluster.leader()
    if (leader !== null && leader.view.configSlot !== pending.configSlot) {
      this.#pending = null
      this.changes += 1
      if (pending.wipe !== null && leader.view.members.some((member) => member.id === pending.wipe && member.role === 'learner')) {
        this.replacedDisks += 1
        cluster.replaceDisk(pending.wipe, { slot: leader.view.configSlot, members: leader.view.members })
      }
      return true
    }
    if (now - pending.since > pendingTicksMax) this.#pending = null
    return this.#pending === null
  }
}
