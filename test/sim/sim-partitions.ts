/**
 * The shapes a network fault takes, as sets of cut directed links. Clean splits are the easy
 * case; Paxos bugs hide in the others: a bridge node that both sides of a split can reach (so
 * two leaders each see a quorum through it) and one-way links (a leader that speaks but cannot
 * hear, or hears but cannot speak).
 */
import { randomBelow, type NodeId, type Random } from '../../src/core/index.js'

export type Link = readonly [from: NodeId, to: NodeId]
export type PartitionPlan = Readonly<{ links: readonly Link[]; description: string }>

/** `leader` (if any) is the likeliest target: isolating it forces elections and recovery. */
export function choosePartition(random: Random, ids: readonly NodeId[], leader: NodeId | undefined): PartitionPlan {
  const target = leader !== undefined && randomBelow(random, 4) !== 0 ? leader : ids[randomBelow(random, ids.length)]!
  switch (randomBelow(random, 5)) {
    case 0:
      return split(ids, (id) => (id === target ? 1 : 0), `isolate ${target}`)
    case 1: {
      const sides = new Map(ids.map((id) => [id, randomBelow(random, 2)]))
      return split(ids, (id) => sides.get(id)!, 'split')
    }
    case 2:
      return split(ids, (id) => id, 'every node alone')
    case 3:
      return bridge(random, ids, target)
    default:
      return oneWay(random, ids, target)
  }
}

/** Nodes talk only within their side. */
function split(ids: readonly NodeId[], side: (id: NodeId) => number, name: string): PartitionPlan {
  const links: Link[] = []
  for (const from of ids) for (const to of ids) if (side(from) !== side(to)) links.push([from, to])
  const sides = new Map<number, NodeId[]>()
  for (const id of ids) sides.set(side(id), [...(sides.get(side(id)) ?? []), id])
  return { links, description: `${name}: ${[...sides.values()].map((nodes) => nodes.join(',')).join(' | ')}` }
}

/** Two sides that cannot talk, and `bridge` that talks to both. */
function bridge(random: Random, ids: readonly NodeId[], bridgeNode: NodeId): PartitionPlan {
  const others = ids.filter((id) => id !== bridgeNode)
  // Seeded shuffle, then halves: both sides are never empty.
  for (let index = others.length - 1; index > 0; index -= 1) {
    const other = randomBelow(random, index + 1)
    ;[others[index], others[other]] = [others[other]!, others[index]!]
  }
  const left = new Set(others.slice(0, Math.ceil(others.length / 2)))
  const side = (id: NodeId): number => (left.has(id) ? 0 : 1)
  const links = split(others, side, '').links
  const names = [[...left].join(','), others.filter((id) => !left.has(id)).join(',')]
  return { links, description: `bridge ${bridgeNode} between ${names.join(' and ')}` }
}

/** `node` can only send (deaf) or only receive (mute). */
function oneWay(random: Random, ids: readonly NodeId[], node: NodeId): PartitionPlan {
  const deaf = randomBelow(random, 2) === 0
  const peers = ids.filter((id) => id !== node)
  const links = peers.map((peer): Link => (deaf ? [peer, node] : [node, peer]))
  return { links, description: `${node} ${deaf ? 'deaf (sends only)' : 'mute (receives only)'}` }
}
