/**
 * Goal: a node with an empty data directory starts only once every peer has answered and none
 * knows an earlier incarnation of it; it takes the cluster id from --cluster-id, else from the
 * peers (which must agree), else the lowest member's offer.
 * Method: a table of answer sets through decideFreshStart.
 */
import { describe, expect, it } from 'vitest'
import { nodeId, type NodeId } from '../../src/core/index.js'
import { decideFreshStart, type FreshStartInput } from '../../src/node/fresh-start-decision.js'
import type { IdentityAnswer } from '../../src/transport/peer-identity.js'

const fresh = (node: number, candidate = `offer-${node}`): IdentityAnswer => ({ node, clusterId: null, candidateClusterId: candidate, knowsAsker: null })
const running = (node: number, clusterId = 'c1', knowsAsker: string | null = null): IdentityAnswer => ({ node, clusterId, candidateClusterId: null, knowsAsker })

function decide(self: number, answers: IdentityAnswer[], more: Partial<FreshStartInput> = {}) {
  return decideFreshStart({
    self: nodeId(self),
    peers: [1, 2, 3].filter((id) => id !== self).map(nodeId),
    clusterIdFlag: null,
    candidate: `offer-${self}`,
    answers: new Map(answers.map((answer) => [answer.node as NodeId, answer])),
    ...more,
  })
}

describe('decideFreshStart', () => {
  it('waits for every peer, naming the ones missing, even when the others know nothing', () => {
    expect(decide(3, [fresh(1)])).toEqual({ type: 'wait', missing: [2] })
    expect(decide(3, [running(1)])).toEqual({ type: 'wait', missing: [2] })
    expect(decide(2, [])).toEqual({ type: 'wait', missing: [1, 3] })
  })

  it('a new cluster: every member empty, so every one takes the lowest member\'s offer', () => {
    expect(decide(1, [fresh(2), fresh(3)])).toEqual({ type: 'start', clusterId: 'offer-1' })
    expect(decide(2, [fresh(1), fresh(3)])).toEqual({ type: 'start', clusterId: 'offer-1' })
    expect(decide(3, [fresh(1), fresh(2)])).toEqual({ type: 'start', clusterId: 'offer-1' })
  })

  it('a member the running peers never met (first start, late) takes their cluster id', () => {
    expect(decide(3, [running(1), running(2)])).toEqual({ type: 'start', clusterId: 'c1' })
    // Node 1 restarted empty-handed with a new offer while node 2 already stored the old one.
    expect(decide(3, [fresh(1, 'offer-again'), running(2)])).toEqual({ type: 'start', clusterId: 'c1' })
  })

  it('refuses when any peer of the cluster knows an earlier incarnation of it, naming it and the way out', () => {
    const decision = decide(3, [running(1), running(2, 'c1', 'abc123')])
    expect(decision.type).toBe('refuse')
    expect(decision.type === 'refuse' ? decision.reason : '').toMatch(/node 2 already knows node 3 \(incarnation abc123\).*paxos-kv member remove 3.*--join/)
  })

  it('a peer of another cluster (a wrong URL) knows some other node 3: not a reason to refuse', () => {
    expect(decide(3, [running(1), running(2, 'other', 'abc123')], { clusterIdFlag: 'c1' })).toEqual({ type: 'start', clusterId: 'c1' })
  })

  it('refuses peers that disagree on the cluster id unless --cluster-id settles it', () => {
    expect(decide(3, [running(1, 'c1'), running(2, 'c2')])).toMatchObject({ type: 'refuse', reason: expect.stringMatching(/different clusters \(c1, c2\)/) })
    expect(decide(3, [running(1, 'c1'), running(2, 'c2')], { clusterIdFlag: 'c2' })).toEqual({ type: 'start', clusterId: 'c2' })
  })

  it('a single member has nobody to ask and starts on its own offer', () => {
    expect(decideFreshStart({ self: nodeId(1), peers: [], clusterIdFlag: null, candidate: 'mine', answers: new Map() })).toEqual({ type: 'start', clusterId: 'mine' })
  })
})
