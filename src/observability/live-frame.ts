/**
 * The live feed's wire format (GET /v1/events, event `frame`): one node's view, a few times a
 * second. Ballots are `round.node` strings; counters are cumulative (the page derives rates).
 * @module
 */
export type LiveRole = 'follower' | 'candidate' | 'leader'

export type LiveNodeState = Readonly<{
  id: number
  role: LiveRole
  leader: number | null
  /** The highest ballot this node's acceptor promised. */
  promised: string
  commitIndex: number
  appliedIndex: number
  revision: number
  /** 99th percentile of this node's recent WAL syncs; null before the first. */
  fsyncP99Ms: number | null
  inboxDepth: number
}>

export type LivePeer = Readonly<{ id: number; reachable: boolean; lagSlots: number | null }>

/** One recent slot as this node saw it. */
export type LiveSlot = Readonly<{
  slot: number
  /** The ballot of the value this node's acceptor accepted; null if it accepted none. */
  accepted: string | null
  /** Commands in the slot's batch (0 for a no-op). */
  batch: number
  chosen: boolean
  /** Leader only: the ids whose accepted chose it, once chosen. */
  quorum: readonly number[] | null
}>

export type LiveRoleChange = Readonly<{
  /** Milliseconds on this node's monotonic clock (`LiveFrame.atMs` is on the same clock). */
  atMs: number
  role: LiveRole
  ballot: string
  reason: string
  /** became leader: the last slot Phase 1 recovered. */
  recoveredThrough?: number
}>

/** Messages per directed link from this node, by type, cumulative. */
export type LiveLinks = Readonly<Record<string, Readonly<Record<string, number>>>>

export type LiveHeldMessage = Readonly<{ id: number; to: number; type: string; ballot: string | null; slots: string | null }>

export type LiveFrame = Readonly<{
  atMs: number
  node: LiveNodeState
  peers: readonly LivePeer[]
  slots: readonly LiveSlot[]
  roleChanges: readonly LiveRoleChange[]
  /** Role changes not listed because more than the limit happened between two frames. */
  roleChangesUnlisted: number
  sent: LiveLinks
  received: LiveLinks
  /** Writes proposed here that were applied, cumulative, and their proposal-to-chosen times in this frame. */
  writes: Readonly<{ applied: number; commitMsP50: number | null; commitMsP99: number | null }>
  /** Step-through mode: this node's held outgoing messages (null when the mode is off). */
  held: readonly LiveHeldMessage[] | null
}>
