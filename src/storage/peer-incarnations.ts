/**
 * The incarnation this node knows for each peer (the random id of the peer's data directory).
 * A peer is recorded the first time it reaches this node, and the record is on disk before
 * anything the peer sent is believed; a peer that later comes with another incarnation lost its
 * data directory (and with it every promise it made), and its votes must not count.
 * @module
 */
import type { Database, Statement } from 'better-sqlite3'
import { assert } from '../core/assert.js'
import { nodeId, type NodeId } from '../core/ids.js'

export class PeerIncarnations {
  readonly #select: Statement<[number], { incarnation: string }>
  readonly #insert: Statement<[number, string]>
  readonly #delete: Statement<[number]>
  readonly #all: Statement<[], { node_id: number; incarnation: string }>

  constructor(db: Database) {
    this.#select = db.prepare('SELECT incarnation FROM peer_incarnations WHERE node_id = ?')
    this.#insert = db.prepare('INSERT INTO peer_incarnations (node_id, incarnation) VALUES (?, ?)')
    this.#delete = db.prepare('DELETE FROM peer_incarnations WHERE node_id = ?')
    this.#all = db.prepare('SELECT node_id, incarnation FROM peer_incarnations ORDER BY node_id')
  }

  /** The incarnation recorded for `peer`, or null if it never reached this node. */
  known(peer: NodeId): string | null {
    return this.#select.get(peer)?.incarnation ?? null
  }

  /** Records a peer's first incarnation; a peer is recorded once (forget it to record another). */
  record(peer: NodeId, incarnation: string): void {
    assert(incarnation !== '', 'an incarnation is never empty')
    assert(this.known(peer) === null, `node ${peer} is already recorded`)
    this.#insert.run(peer, incarnation)
  }

  /** A member removed from the cluster: a node added later under its id is a new one. */
  forget(peer: NodeId): void {
    this.#delete.run(peer)
  }

  all(): ReadonlyMap<NodeId, string> {
    return new Map(this.#all.all().map((row) => [nodeId(row.node_id), row.incarnation]))
  }
}
