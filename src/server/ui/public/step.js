// Step-through: for members started with --debug-step (their frames carry `held`), hold their
// outgoing messages to one member, then release or drop them one at a time and watch the
// answers they cause (the receiver's replies are counted from its own frames).
import { el } from './dom.js'

const replyTo = { prepare: ['promise', 'reject'], accept: ['accepted', 'reject'], heartbeat: ['heartbeat-ack', 'reject'], 'catch-up': ['chosen'] }
/** Recent releases, newest first: what was released, and the receiver's reply counts then. */
const releases = []
let stateRef = null
let redraw = () => {}

const byId = (id) => document.getElementById(id)
const secret = () => byId('step-secret').value

async function call(nodeId, action, body) {
  const response = await fetch(`/v1/debug/${action}?node=${nodeId}`, {
    method: action === 'held' ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', 'x-paxos-secret': secret() },
    body: action === 'held' ? undefined : JSON.stringify(body),
  })
  const answer = await response.json()
  byId('step-status').textContent = response.ok ? `${action}: ok` : `${action}: ${response.status} ${answer.error}: ${answer.message}`
  return response.ok ? answer : null
}

function replyCounts(from, to) {
  const sent = stateRef.nodes.get(to)?.frame?.sent?.[String(from)] ?? {}
  return { ...sent }
}

async function releaseOrDrop(nodeId, action, amount, messages) {
  const answer = await call(nodeId, action, amount)
  if (answer === null || action !== 'release') return redraw()
  for (const message of messages) {
    releases.unshift({ from: nodeId, message, before: replyCounts(nodeId, message.to), atMs: Date.now() })
  }
  releases.length = Math.min(releases.length, 10)
  redraw()
}

export function mountStepThrough(state, onChange) {
  stateRef = state
  redraw = onChange
  byId('step-secret').value = sessionStorage.getItem('paxos-kv-secret') ?? ''
  byId('step-secret').addEventListener('change', () => sessionStorage.setItem('paxos-kv-secret', secret()))
  byId('hold-button').addEventListener('click', () => {
    const types = byId('hold-types').value.split(',').map((type) => type.trim()).filter((type) => type !== '')
    call(Number(byId('hold-node').value), 'hold', { to: Number(byId('hold-to').value), types }).then(() => redraw())
  })
}

function fillSelect(select, ids) {
  const wanted = ids.map(String)
  if ([...select.options].map((option) => option.value).join() === wanted.join()) return
  const chosen = select.value
  select.replaceChildren(...wanted.map((id) => el('option', { value: id }, `node ${id}`)))
  if (wanted.includes(chosen)) select.value = chosen
}

function heldList(node) {
  const { held, id } = { held: node.frame.held, id: node.id }
  const items = held.map((message) => el('li', { 'data-held-id': message.id, 'data-held-type': message.type, 'data-held-to': message.to },
    `#${message.id} ${message.type} → node ${message.to}`, message.ballot === null ? '' : ` ballot ${message.ballot}`, message.slots === null ? '' : ` slots ${message.slots}`))
  const buttons = el('div', { class: 'step-controls' },
    el('button', { type: 'button', 'data-action': 'release-one', disabled: held.length === 0 }, 'release one'),
    el('button', { type: 'button', class: 'secondary', 'data-action': 'drop-one', disabled: held.length === 0 }, 'drop one'),
    el('button', { type: 'button', class: 'secondary', 'data-action': 'release-all', disabled: held.length === 0 }, 'release all'))
  buttons.querySelector('[data-action="release-one"]').addEventListener('click', () => releaseOrDrop(id, 'release', { count: 1 }, held.slice(0, 1)))
  buttons.querySelector('[data-action="drop-one"]').addEventListener('click', () => releaseOrDrop(id, 'drop', { count: 1 }, []))
  buttons.querySelector('[data-action="release-all"]').addEventListener('click', () => releaseOrDrop(id, 'release', { all: true }, held))
  return el('div', { class: 'held-node', 'data-held-node': id },
    el('h3', {}, `node ${id} holds ${held.length} message${held.length === 1 ? '' : 's'}`),
    el('ul', {}, items.length === 0 ? [el('li', { class: 'muted' }, 'nothing held')] : items),
    buttons)
}

function releaseLog() {
  return releases.map((release) => {
    const now = replyCounts(release.from, release.message.to)
    const replies = (replyTo[release.message.type] ?? []).map((type) => [type, (now[type] ?? 0) - (release.before[type] ?? 0)]).filter(([, count]) => count > 0)
    const answer = replies.length === 0 ? 'no reply yet' : `node ${release.message.to} answered ${replies.map(([type, count]) => `${type} ×${count}`).join(', ')}`
    return el('li', { 'data-released': release.message.type, 'data-replies': replies.map(([type]) => type).join(',') },
      `released ${release.message.type} → node ${release.message.to}${release.message.slots === null ? '' : ` (slots ${release.message.slots})`}: ${answer}`)
  })
}

export function renderHeld(state, nowMs) {
  const stepping = [...state.nodes.values()].filter((node) => state.reachable(node.id, nowMs) && node.frame.held !== null)
  const panel = byId('step-panel')
  panel.hidden = stepping.length === 0
  if (stepping.length === 0) return
  fillSelect(byId('hold-node'), stepping.map((node) => node.id))
  fillSelect(byId('hold-to'), state.members.filter((id) => String(id) !== byId('hold-node').value))
  // Buttons are rebuilt only when what is held changed, so a click is never lost to a redraw.
  const signature = JSON.stringify(stepping.map((node) => [node.id, node.frame.held.map((message) => message.id)])) + JSON.stringify(releaseLog().map((item) => item.textContent))
  const target = byId('held')
  if (target.dataset.signature === signature) return
  target.dataset.signature = signature
  target.replaceChildren(...stepping.map(heldList), el('ol', { class: 'elections', 'data-testid': 'releases' }, releaseLog()))
}
