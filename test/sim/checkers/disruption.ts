/**
 * No disruption from a returning node: with a stable leader and an otherwise healthy network, a
 * follower cut off for several election timeouts and then healed must cause no election at all
 * (it asks for pre-votes, gets no yes, and raises no ballot), the leader keeps leading, and the
 * follower catches up. Elections are counted from the core's events during that phase.
 */
import type { CoreEvent, NodeId } from '../../../src/core/index.js'

export type PhaseEvent = Readonly<{ node: NodeId; tick: number; event: CoreEvent }>

export function checkNoDisruption(options: {
  leader: NodeId
  cutOff: NodeId
  events: readonly PhaseEvent[]
  leaderAtEnd: NodeId | null
  appliedIndexes: ReadonlyMap<number, number>
}): string[] {
  const violations: string[] = []
  const elections = options.events.filter(({ event }) => event.type === 'became-candidate')
  if (elections.length > 0) {
    const who = elections.slice(0, 3).map(({ node, tick }) => `node ${node} at tick ${tick}`).join(', ')
    violations.push(`disruption: ${elections.length} elections while node ${options.cutOff} was cut off and healed under leader ${options.leader} (${who})`)
  }
  const deposed = options.events.find(({ node, event }) => node === options.leader && event.type === 'became-follower')
  if (deposed !== undefined || options.leaderAtEnd !== options.leader) {
    const reason = deposed?.event.type === 'became-follower' ? ` (${deposed.event.reason} at tick ${deposed.tick})` : ''
    violations.push(`disruption: leader ${options.leader} was deposed${reason}; leader at the end: ${options.leaderAtEnd ?? 'none'}`)
  }
  if (new Set(options.appliedIndexes.values()).size > 1) {
    violations.push(`disruption: node ${options.cutOff} did not catch up after the heal: applied indexes ${JSON.stringify([...options.appliedIndexes])}`)
  }
  return violations
}
