/**
 * One membership change as a new member list, decided on the leader: pure, table-tested.
 * @module
 */
import { slotZero, type NodeId } from '../core/ids.js'
import type { ChosenConfig, ConfigMember } from '../core/configuration.js'
import type { NodeConfig } from '../config/config.js'
import type { MemberCall, MemberChange } from '../server/node-service.js'

export type PlannedChange =
  | Readonly<{ type: 'members'; members: readonly ConfigMember[] }>
  /** Already so (a retried request): answer the current list. */
  | Readonly<{ type: 'unchanged' }>
  | Extract<MemberCall, { type: 'refused' }>

export function planMemberChange(current: readonly ConfigMember[], change: MemberChange, caughtUp: (id: NodeId) => boolean): PlannedChange {
  const existing = current.find((member) => member.id === change.id)
  switch (change.type) {
    case 'add': {
      const role = change.learner ? 'learner' : 'voter'
      if (existing !== undefined) {
        if (existing.url === change.url) return { type: 'unchanged' }
        return { type: 'refused', code: 'member_exists', message: `node ${change.id} is a member already, at ${existing.url}` }
      }
      const twin = current.find((member) => member.url === change.url)
      if (twin !== undefined) return { type: 'refused', code: 'member_exists', message: `node ${twin.id} is at ${change.url} already` }
      return { type: 'members', members: [...current, { id: change.id, url: change.url, role }] }
    }
    case 'promote':
      if (existing === undefined) return { type: 'refused', code: 'not_found', message: `node ${change.id} is not a member` }
      if (existing.role === 'voter') return { type: 'unchanged' }
      if (!caughtUp(change.id)) return { type: 'refused', code: 'not_caught_up', message: `node ${change.id} has not caught up with the log yet (is it running with --join?): retry once it has` }
      return { type: 'members', members: current.map((member) => (member.id === change.id ? { ...member, role: 'voter' } : member)) }
    case 'remove': {
      if (existing === undefined) return { type: 'refused', code: 'not_found', message: `node ${change.id} is not a member` }
      const rest = current.filter((member) => member.id !== change.id)
      if (!rest.some((member) => member.role === 'voter')) return { type: 'refused', code: 'bad_request', message: `node ${change.id} is the last voter` }
      return { type: 'members', members: rest }
    }
  }
}

/** The configuration a node starts from before its log names one. */
export function bootstrapConfiguration(config: NodeConfig): ChosenConfig {
  return config.bootstrap ?? { slot: slotZero, members: config.members.map((member) => ({ id: member.id, url: member.url, role: 'voter' as const })) }
}
