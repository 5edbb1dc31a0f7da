// Message flow: for every directed link, messages per second by type over the last ~2 s, from
// the sender's cumulative counts (each member reports what it sent).
import { el } from './dom.js'

const types = ['prepare', 'promise', 'accept', 'accepted', 'reject', 'heartbeat', 'heartbeat-ack', 'catch-up', 'chosen']

function rates(node) {
  const history = node.sentHistory
  if (history.length < 2) return null
  const [fromMs, from] = history[0]
  const [toMs, to] = history[history.length - 1]
  const seconds = Math.max(0.001, (toMs - fromMs) / 1000)
  const result = {}
  for (const [peer, byType] of Object.entries(to)) {
    result[peer] = {}
    for (const type of types) result[peer][type] = ((byType[type] ?? 0) - (from[peer]?.[type] ?? 0)) / seconds
  }
  return result
}

export function renderLinks(target, state, nowMs) {
  const rows = []
  let highest = 1
  const perLink = []
  for (const id of state.members) {
    const node = state.nodes.get(id)
    const nodeRates = node !== undefined && state.reachable(id, nowMs) ? rates(node) : null
    for (const peer of state.members) {
      if (peer === id) continue
      const linkRates = nodeRates?.[String(peer)] ?? null
      if (linkRates !== null) highest = Math.max(highest, ...Object.values(linkRates))
      perLink.push({ from: id, to: peer, rates: linkRates })
    }
  }
  for (const link of perLink) {
    rows.push(el('tr', { 'data-link': `${link.from}-${link.to}` },
      el('td', {}, `${link.from} → ${link.to}`),
      types.map((type) => {
        if (link.rates === null) return el('td', { class: 'rate muted' }, '?')
        const rate = link.rates[type]
        return el('td', { class: 'rate' }, rate < 0.05 ? '' : rate.toFixed(rate < 10 ? 1 : 0), rate >= 0.05 ? el('span', { class: 'bar', style: `width:${Math.max(1, (rate / highest) * 40)}px` }) : null)
      }),
    ))
  }
  target.replaceChildren(el('table', { class: 'links' },
    el('thead', {}, el('tr', {}, el('th', {}, 'link'), types.map((type) => el('th', {}, type)))),
    el('tbody', {}, rows)))
}
