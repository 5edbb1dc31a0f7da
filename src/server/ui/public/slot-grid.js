// The slot log: the last 64 slots as columns, the acceptors as rows. A cell shows the ballot
// that acceptor accepted (from its own frame), chosen or not; the leader's frame adds which
// votes made up the quorum. A member that is down is filled in from the leader's view, or left
// hatched as unknown.
import { el } from './dom.js'

const columns = 64

function slotsOf(state) {
  const bySlot = new Map()
  for (const node of state.nodes.values()) {
    for (const entry of node.frame?.slots ?? []) {
      const seen = bySlot.get(entry.slot) ?? { batch: 0, chosen: false, quorum: null, leaderBallot: null }
      seen.batch = Math.max(seen.batch, entry.batch)
      seen.chosen ||= entry.chosen
      if (entry.quorum !== null) {
        seen.quorum = entry.quorum
        seen.leaderBallot = entry.accepted
      }
      bySlot.set(entry.slot, seen)
    }
  }
  return bySlot
}

function cell(state, nowMs, acceptor, slot, seen, highlighted) {
  const node = state.nodes.get(acceptor)
  const own = state.reachable(acceptor, nowMs) ? node.frame.slots.find((entry) => entry.slot === slot) : undefined
  const counted = seen?.quorum?.includes(acceptor) ?? false
  const classes = ['cell']
  let text = ''
  let title = `slot ${slot}, acceptor ${acceptor}: `
  if (own !== undefined && own.accepted !== null) {
    text = own.accepted
    classes.push(own.chosen || seen?.chosen ? 'chosen' : 'accepted')
    title += `accepted in ballot ${own.accepted}${own.chosen ? ', chosen' : ', not yet known chosen'}`
  } else if (counted) {
    text = seen.leaderBallot ?? '✓'
    classes.push('chosen')
    title += `its accepted counted in the quorum (seen by the leader)`
  } else if (own !== undefined && own.chosen) {
    text = '·'
    classes.push('chosen')
    title += 'learned the chosen value without voting for it'
  } else if (!state.reachable(acceptor, nowMs)) {
    classes.push('unknown')
    title += 'down: unknown'
  } else {
    title += 'nothing accepted yet'
  }
  if (counted) classes.push('counted')
  if (highlighted) classes.push('mine')
  return el('td', { class: classes.join(' '), title, 'data-slot': slot, 'data-acceptor': acceptor, 'data-ballot': text || null }, text)
}

export function renderSlotGrid(target, state, nowMs) {
  const bySlot = slotsOf(state)
  const highest = Math.max(0, ...bySlot.keys())
  if (highest === 0) {
    target.replaceChildren(el('p', { class: 'muted' }, 'No slot chosen yet: write something.'))
    return
  }
  const first = Math.max(1, highest - columns + 1)
  const slots = Array.from({ length: highest - first + 1 }, (_, index) => first + index)
  const mine = new Set(state.receipts.map((receipt) => receipt.slot))
  const header = el('tr', {}, el('th', { class: 'row' }, 'slot'), slots.map((slot) => el('th', { class: mine.has(slot) ? 'mine' : '', 'data-slot-header': slot }, slot)))
  const batches = el('tr', {}, el('th', { class: 'row' }, 'batch'), slots.map((slot) => el('td', { class: 'muted' }, bySlot.get(slot)?.batch ?? '')))
  const rows = state.members.map((acceptor) => el('tr', {},
    el('th', { class: 'row' }, `acceptor ${acceptor}`),
    slots.map((slot) => cell(state, nowMs, acceptor, slot, bySlot.get(slot), mine.has(slot))),
  ))
  target.replaceChildren(el('table', { class: 'slots' }, el('thead', {}, header), el('tbody', {}, batches, rows)))
  target.scrollLeft = target.scrollWidth
}
