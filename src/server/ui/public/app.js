// The live page: learns the members from the serving node, subscribes to each member's feed
// through it, follows the member list as it changes (members added, promoted or removed while
// the page is open), and redraws at most a few times a second.
import { createCharts } from './charts.js'
import { openFeed } from './feeds.js'
import { renderLinks } from './links.js'
import { renderMembers, renderSummary } from './members.js'
import { renderSlotGrid } from './slot-grid.js'
import { ClusterState } from './state.js'
import { mountStepThrough, renderHeld } from './step.js'
import { renderTimeline } from './timeline.js'
import { mountWriteBox } from './write-box.js'

const state = new ClusterState()
const byId = (id) => document.getElementById(id)

async function members() {
  for (;;) {
    try {
      const response = await fetch('/v1/status')
      if (response.ok) {
        const status = await response.json()
        return { self: status.id, members: [status.id, ...status.peers.map((peer) => peer.id)].sort((a, b) => a - b) }
      }
    } catch {
      // the serving node is starting or gone: try again
    }
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}

/** How often the page asks for the member list (a change takes effect within a round trip). */
const membersRefreshMs = 2000
const feeds = new Map()

/** Subscribes to the members in `ids` not yet followed, and forgets those no longer in it. */
function follow(ids) {
  for (const id of ids) {
    if (feeds.has(id)) continue
    feeds.set(id, openFeed(`/v1/events?node=${id}`, {
      hello: (hello) => (state.hello(id, hello, Date.now()), draw()),
      frame: (frame) => (state.frame(id, frame, Date.now()), draw()),
      down: () => (state.down(id), draw()),
    }))
  }
  for (const [id, feed] of feeds) {
    if (ids.includes(id)) continue
    feed.close()
    feeds.delete(id)
    state.forget(id)
  }
  state.members = ids
}

/** GET /v1/members: who is a member now, and who is a learner. Without a leader, the last list stays. */
async function refreshMembers() {
  try {
    const response = await fetch('/v1/members')
    if (!response.ok) return
    const body = await response.json()
    state.learners = new Set(body.members.filter((member) => member.role === 'learner').map((member) => member.id))
    follow(body.members.map((member) => member.id).sort((a, b) => a - b))
    draw()
  } catch {
    // the serving node is restarting: the next refresh tries again
  }
}

let charts = null
let drawPending = false
function draw() {
  if (drawPending) return
  drawPending = true
  requestAnimationFrame(() => {
    drawPending = false
    const nowMs = Date.now()
    renderSummary(byId('summary'), state, nowMs)
    renderMembers(byId('members').tBodies[0], state, nowMs)
    renderSlotGrid(byId('slot-grid'), state, nowMs)
    renderTimeline(byId('timeline'), byId('elections'), state, nowMs)
    renderLinks(byId('links'), state, nowMs)
    renderHeld(state, nowMs)
    charts?.update(state)
  })
}

const known = await members()
state.self = known.self
charts = createCharts(byId('throughput-chart'), byId('latency-chart'))
mountWriteBox(byId('write-form'), byId('receipt'), state, draw)
mountStepThrough(state, draw)
follow(known.members)
await refreshMembers()
setInterval(refreshMembers, membersRefreshMs)
// A member that stops sending frames turns unreachable even without an error event.
setInterval(draw, 1000)
document.body.dataset.ready = 'true'
