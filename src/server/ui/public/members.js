// The members table: one row per member, from that member's own frame; a member whose feed is
// silent is shown unreachable, with what it last reported.
import { el, formatMs } from './dom.js'

function lagText(state, id, leader) {
  const peer = leader?.frame.peers.find((candidate) => candidate.id === id)
  if (peer !== undefined && peer.lagSlots !== null) return `${peer.lagSlots} slot${peer.lagSlots === 1 ? '' : 's'} behind the leader`
  const frame = state.nodes.get(id)?.frame
  if (frame === null || frame === undefined) return '–'
  return `${frame.node.commitIndex - frame.node.appliedIndex} to apply`
}

export function renderMembers(tbody, state, nowMs) {
  const leader = state.leader(nowMs)
  const rows = state.members.map((id) => {
    const node = state.nodes.get(id)
    const frame = node?.frame ?? null
    const reachable = state.reachable(id, nowMs)
    const role = frame === null ? 'unknown' : frame.node.role
    const learner = state.learners.has(id)
    return el('tr', { class: [reachable ? '' : 'down', reachable && role === 'leader' ? 'leader' : ''].join(' '), 'data-member': id, 'data-role': reachable ? role : 'down', 'data-voter': learner ? 'no' : 'yes' },
      el('td', {}, `node ${id}`, learner ? el('span', { class: 'muted' }, ' (learner)') : null, id === state.self ? el('span', { class: 'muted' }, ' (serving this page)') : null),
      el('td', { class: `role-${role}` }, reachable ? role : `down (last: ${role})`),
      el('td', {}, frame?.node.promised ?? '–'),
      el('td', {}, frame?.node.commitIndex ?? '–'),
      el('td', {}, frame?.node.appliedIndex ?? '–'),
      el('td', {}, reachable ? 'yes' : 'no'),
      el('td', {}, formatMs(frame?.node.fsyncP99Ms ?? null)),
      el('td', {}, lagText(state, id, leader)),
    )
  })
  tbody.replaceChildren(...rows)
}

export function renderSummary(target, state, nowMs) {
  const leader = state.leader(nowMs)
  const up = state.members.filter((id) => state.reachable(id, nowMs)).length
  const parts = [`${state.members.length} members, ${up} reachable`]
  if (leader === null) parts.push('no leader right now')
  else parts.push(`leader node ${leader.id} in ballot ${leader.frame.node.promised}`, `commit index ${leader.frame.node.commitIndex}`, `revision ${leader.frame.node.revision}`)
  target.textContent = parts.join(' · ')
}
