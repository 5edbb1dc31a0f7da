// The leader timeline: for each member a lane over the last few minutes, a bar for each
// ballot it led and a tick for each campaign; below, the elections newest first, each with its
// reason and how long it took from campaign to leading.
import { clockTime, el, svg } from './dom.js'

const windowMaxMs = 3 * 60 * 1000
const windowMinMs = 30 * 1000
const width = 600
const laneHeight = 22
const labelWidth = 60

/** Leadership intervals [{node, ballot, fromMs, toMs}] from the role changes. */
function leaderships(changes, nowMs) {
  const open = new Map()
  const spans = []
  for (const change of changes) {
    const current = open.get(change.node)
    // Ballots are unique per node: a change in the ballot it leads can only come after it.
    if (current !== undefined && (change.ballot !== current.ballot || change.role === 'follower')) {
      spans.push({ ...current, toMs: change.wallMs })
      open.delete(change.node)
    }
    if (change.role === 'leader') open.set(change.node, { node: change.node, ballot: change.ballot, fromMs: change.wallMs })
  }
  for (const current of open.values()) spans.push({ ...current, toMs: nowMs })
  return spans
}

/** Campaigns, each with how it ended: led (and after how long), or not. */
function elections(changes) {
  const result = []
  for (const change of changes) {
    if (change.role !== 'candidate') continue
    const won = changes.find((later) => later.node === change.node && later.role === 'leader' && later.ballot === change.ballot)
    const ended = changes.find((later) => later.node === change.node && later.wallMs > change.wallMs && later.ballot !== change.ballot)
    result.push({ ...change, wonAfterMs: won === undefined ? null : Math.max(0, won.wallMs - change.wallMs), recoveredThrough: won?.recoveredThrough ?? null, inferred: won?.seenOnly === true, superseded: ended !== undefined && won === undefined })
  }
  return result
}

function describeElection(election) {
  const outcome = election.wonAfterMs !== null
    ? `${election.inferred ? 'seen leading' : 'led'} after ${Math.round(election.wonAfterMs)} ms${election.recoveredThrough === null || election.recoveredThrough === undefined ? '' : `; Phase 1 recovered the log through slot ${election.recoveredThrough}`}`
    : election.superseded ? 'lost (a higher ballot came first)' : 'waiting for promises'
  return `${clockTime(election.wallMs)} ballot ${election.ballot}: node ${election.node} campaigned (${election.reason}); ${outcome}`
}

export function renderTimeline(target, list, state, nowMs) {
  const changes = state.roleChanges()
  // From a little before the first change seen, between 30 s and 3 min: early elections stay readable.
  const windowMs = Math.min(windowMaxMs, Math.max(windowMinMs, changes.length === 0 ? 0 : nowMs - changes[0].wallMs + 5000))
  const fromMs = nowMs - windowMs
  const x = (ms) => labelWidth + ((Math.max(ms, fromMs) - fromMs) / windowMs) * (width - labelWidth)
  const lanes = state.members.map((id, index) => {
    const y = index * laneHeight
    return svg('g', {}, svg('text', { x: 0, y: y + 14 }, `node ${id}`), svg('line', { x1: labelWidth, x2: width, y1: y + 11, y2: y + 11, stroke: '#dde1e8' }))
  })
  const bars = leaderships(changes, nowMs).filter((span) => span.toMs >= fromMs).map((span) => {
    const y = state.members.indexOf(span.node) * laneHeight
    const x1 = x(span.fromMs)
    const barWidth = Math.max(2, x(span.toMs) - x1)
    return svg('g', { 'data-leader-ballot': span.ballot },
      svg('rect', { x: x1, y: y + 3, width: barWidth, height: 16, rx: 3, fill: '#3867d6', opacity: 0.8 }),
      svg('text', { x: x1 + 4, y: y + 15, fill: '#fff', style: 'fill:#fff' }, `ballot ${span.ballot}`))
  })
  const ticks = changes.filter((change) => change.role === 'candidate' && change.wallMs >= fromMs).map((change) => {
    const y = state.members.indexOf(change.node) * laneHeight
    return svg('line', { x1: x(change.wallMs), x2: x(change.wallMs), y1: y + 1, y2: y + 21, stroke: '#e3a008', 'stroke-width': 2 })
  })
  const height = state.members.length * laneHeight + 14
  const axis = svg('text', { x: labelWidth, y: height - 2 }, `${Math.round(windowMs / 1000)} s ago`)
  const now = svg('text', { x: width - 24, y: height - 2 }, 'now')
  target.replaceChildren(svg('svg', { class: 'timeline', viewBox: `0 0 ${width} ${height}` }, lanes, bars, ticks, axis, now))
  const items = elections(changes).reverse().slice(0, 20).map((election) => el('li', { 'data-ballot': election.ballot }, describeElection(election)))
  const stepDowns = changes.filter((change) => change.role === 'follower').reverse().slice(0, 5)
    .map((change) => el('li', { class: 'muted' }, `${clockTime(change.wallMs)} node ${change.node} stopped leading or campaigning at ballot ${change.ballot}: ${change.reason}`))
  list.replaceChildren(...items, ...stepDowns)
}
