// What the page knows of the cluster: per member, its latest frame and when it came, its role
// changes on the page's clock, and short histories for rates and charts.

/** A member whose last frame is older than this is shown unreachable. */
export const staleAfterMs = 1500
const historyMs = 5 * 60 * 1000

export class ClusterState {
  constructor() {
    this.self = null
    this.members = []
    /** Members that are learners (they get the log; their votes do not count). */
    this.learners = new Set()
    this.nodes = new Map()
    /** Receipts of writes made from this page, newest first. */
    this.receipts = []
    /** [wallMs, revision] of the cluster, for the throughput chart. */
    this.revisions = []
    /** [wallMs, p50, p99] commit latency reported by the leader. */
    this.latencies = []
  }

  node(id) {
    let node = this.nodes.get(id)
    if (node === undefined) {
      node = { id, frame: null, receivedAt: 0, offsetMs: null, connected: false, roleChanges: [], sentHistory: [] }
      this.nodes.set(id, node)
    }
    return node
  }

  hello(id, hello, nowMs) {
    if (this.members.length === 0) this.members = hello.members
    const node = this.node(id)
    node.connected = true
    this.#clockOffset(node, nowMs, hello.atMs)
    for (const change of hello.roleChanges) this.#addRoleChange(node, change)
  }

  frame(id, frame, nowMs) {
    const node = this.node(id)
    node.frame = frame
    node.receivedAt = nowMs
    node.connected = true
    this.#clockOffset(node, nowMs, frame.atMs)
    for (const change of frame.roleChanges) this.#addRoleChange(node, change)
    // A leader whose becoming-leader the page missed (it joined late, or a frame was lost to a
    // reconnect) still gets its bar: from the first frame that shows it leading.
    if (frame.node.role === 'leader' && !node.roleChanges.some((seen) => seen.role === 'leader' && seen.ballot === frame.node.promised)) {
      this.#addRoleChange(node, { atMs: frame.atMs, role: 'leader', ballot: frame.node.promised, reason: 'seen leading', seenOnly: true })
    }
    node.sentHistory.push([nowMs, frame.sent])
    while (node.sentHistory.length > 2 && nowMs - node.sentHistory[0][0] > 2500) node.sentHistory.shift()
    if (frame.node.role === 'leader') {
      this.revisions.push([nowMs, frame.node.revision])
      if (frame.writes.commitMsP50 !== null) this.latencies.push([nowMs, frame.writes.commitMsP50, frame.writes.commitMsP99])
    }
    for (const series of [this.revisions, this.latencies]) while (series.length > 0 && nowMs - series[0][0] > historyMs) series.shift()
  }

  /** A member removed from the configuration: what the page knew of it goes. */
  forget(id) {
    this.nodes.delete(id)
    this.learners.delete(id)
  }

  down(id) {
    this.node(id).connected = false
  }

  reachable(id, nowMs) {
    const node = this.nodes.get(id)
    return node !== undefined && node.connected && node.frame !== null && nowMs - node.receivedAt < staleAfterMs
  }

  /** The leader every fresh frame agrees on, or null. */
  leader(nowMs) {
    const leaders = [...this.nodes.values()].filter((node) => this.reachable(node.id, nowMs) && node.frame.node.role === 'leader')
    return leaders.length === 1 ? leaders[0] : null
  }

  /** Role changes of every member, on the page's clock, oldest first. */
  roleChanges() {
    return [...this.nodes.values()].flatMap((node) => node.roleChanges.map((change) => ({ ...change, node: node.id }))).sort((a, b) => a.wallMs - b.wallMs)
  }

  /**
   * The node's monotonic clock against the page's: the smallest gap seen, since a message can
   * only be late. A jump of seconds means the node restarted (a new clock): start over.
   */
  #clockOffset(node, nowMs, atMs) {
    const sample = nowMs - atMs
    if (node.offsetMs === null || sample < node.offsetMs || sample - node.offsetMs > 10_000) node.offsetMs = sample
  }

  #addRoleChange(node, change) {
    const wallMs = change.atMs + node.offsetMs
    // A change arrives in a frame, and again in a later hello after a reconnect: keep it once.
    if (node.roleChanges.some((seen) => seen.atMs === change.atMs && seen.role === change.role)) return
    // The real change replaces one the page only inferred from a frame.
    const inferred = node.roleChanges.findIndex((seen) => seen.seenOnly === true && seen.role === change.role && seen.ballot === change.ballot)
    if (inferred >= 0) node.roleChanges.splice(inferred, 1)
    node.roleChanges.push({ ...change, wallMs })
    node.roleChanges.sort((a, b) => a.wallMs - b.wallMs)
    if (node.roleChanges.length > 200) node.roleChanges.shift()
  }
}
