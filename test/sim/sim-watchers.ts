/**
 * Seeded watchers, as clients of GET /v1/watch would be: each follows one key prefix on one
 * live node, reading that node's change history from its own cursor a few revisions at a time,
 * and moves on to another node, from the same cursor, when its node is down (a resume with
 * fromRevision). A read the history no longer covers (410) ends the stream; the watcher starts
 * a new one after the node's current revision, as a client that gets 410 must. Every stream is
 * kept for the watch checker.
 */
import { randomBelow, randomChance, type NodeId, type Random } from '../../src/core/index.js'
import type { ChangeHistory } from '../../src/kv/change-history.js'

export type WatchedEvent = Readonly<{ revision: number; changes: string }>

/** One stream: from `start`, the events seen, and `next`, the first revision not yet read. */
export type WatchStream = { readonly prefix: string; readonly start: number; readonly events: WatchedEvent[]; next: number; readonly nodes: NodeId[] }

export interface WatchedCluster {
  upNodes(): NodeId[]
  changeHistory(node: NodeId): Pick<ChangeHistory, 'read' | 'servedFrom'>
  revision(node: NodeId): number
}

/** What a stream sees of one revision's changes: those under its prefix, as JSON. */
export function eventChanges(changes: readonly { key: string }[], prefix: string): string | null {
  const watched = changes.filter((change) => change.key.startsWith(prefix))
  return watched.length === 0 ? null : JSON.stringify(watched.map((change) => ({ ...change, value: 'value' in change && change.value instanceof Uint8Array ? Buffer.from(change.value).toString('base64') : null })))
}

export class SimWatcher {
  readonly streams: WatchStream[] = []
  readonly #random: Random
  readonly #prefix: string
  #node: NodeId | null = null

  constructor(random: Random, prefix: string) {
    this.#random = random
    this.#prefix = prefix
  }

  tick(cluster: WatchedCluster): void {
    if (!randomChance(this.#random, 1, 3)) return
    const up = cluster.upNodes()
    if (this.#node === null || !up.includes(this.#node)) {
      if (up.length === 0) return
      this.#node = up[randomBelow(this.#random, up.length)]!
    }
    const node = this.#node
    let stream = this.streams.at(-1)
    if (stream === undefined) stream = this.#open(node, cluster)
    if (!stream.nodes.includes(node)) stream.nodes.push(node)
    const read = cluster.changeHistory(node).read(stream.next as never, 4)
    if (read.type === 'compacted') {
      this.#open(node, cluster)
      return
    }
    for (const entry of read.entries) {
      const changes = eventChanges(entry.changes, this.#prefix)
      if (changes !== null) stream.events.push({ revision: entry.revision, changes })
      stream.next = entry.revision + 1
    }
  }

  #open(node: NodeId, cluster: WatchedCluster): WatchStream {
    const start = cluster.revision(node) + 1
    const stream: WatchStream = { prefix: this.#prefix, start, events: [], next: start, nodes: [node] }
    this.streams.push(stream)
    return stream
  }
}
