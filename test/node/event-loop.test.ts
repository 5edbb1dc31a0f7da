/**
 * Goal: one event-loop turn steps every queued envelope, then ticks for the time that passed,
 * then drains Ready through the ports; the inbox is bounded (a full inbox answers
 * `overloaded` and queues nothing); a turn that throws goes to onFatal; a stopped loop is idle.
 * Method: a recording fake ReplicaPort and a hand-driven clock; turns run on real setImmediate.
 */
import { describe, expect, it } from 'vitest'
import { ballotZero, nodeId, slotZero, type Envelope, type Ready, type ReplicaPort } from '../../src/core/index.js'
import { limits } from '../../src/core/limits.js'
import { SystemClock } from '../../src/node/clock.js'
import { EventLoop } from '../../src/node/event-loop.js'
import type { ReadyPorts } from '../../src/node/process-ready.js'
import type { WriteCommand } from '../../src/kv/command.js'

const heartbeat = (round: number): Envelope<WriteCommand> => ({ from: nodeId(2), to: nodeId(1), message: { type: 'heartbeat', ballot: { round, node: nodeId(2) }, commitIndex: slotZero, readRound: 0 } })

function fakeReplica(calls: string[], queued: Ready<WriteCommand>[]): ReplicaPort<WriteCommand> {
  return {
    tick: () => calls.push('tick'),
    campaign: () => calls.push('campaign'),
    step: (envelope) => calls.push(`step ${envelope.message.type === 'heartbeat' ? envelope.message.ballot.round : '?'}`),
    propose: () => ({ type: 'overloaded' }),
    read: () => ({ type: 'overloaded' }),
    ready: () => queued.shift() ?? null,
    advance: () => calls.push('advance'),
    compacted: () => calls.push('compacted'),
    snapshotReady: () => calls.push('snapshot-ready'),
    status: () => ({ id: nodeId(1), role: 'follower', leader: null, ballot: ballotZero, commitIndex: slotZero, appliedIndex: slotZero }),
    proposeConfig: () => ({ type: 'not_leader', leader: null }),
    membership: () => ({ configSlot: slotZero, members: [], inForce: true }),
    caughtUp: () => false,
    membershipSettled: () => false,
    configurationsRestored: () => calls.push('configurations-restored'),
  }
}

function recordingPorts(calls: string[]): ReadyPorts {
  return {
    self: nodeId(1),
    atomically: (work) => work(),
    persist: () => calls.push('persist'),
    apply: () => calls.push('apply'),
    send: () => calls.push('send'),
    reads: (outcomes) => calls.push(`reads ${outcomes.map((outcome) => outcome.id).join(',')}`),
    dropped: () => calls.push('dropped'),
    fetchSnapshot: () => calls.push('fetch-snapshot'),
    installSnapshot: () => { calls.push('install-snapshot') },
    takeSnapshot: () => calls.push('take-snapshot'),
  }
}

function setup(queued: Ready<WriteCommand>[] = []) {
  const calls: string[] = []
  let nowMs = 0
  const clock = new SystemClock(10, { monotonicMs: () => nowMs, wallMs: () => 0 })
  const fatal: unknown[] = []
  const replica = fakeReplica(calls, queued)
  const loop = new EventLoop({ replica, ports: recordingPorts(calls), clock, tickMs: 10, onFatal: (error) => fatal.push(error) })
  return { calls, loop, fatal, replica, advance: (ms: number) => (nowMs += ms) }
}

const turn = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)))

describe('EventLoop', () => {
  it('steps the inbox in order, then ticks for elapsed time, then drains Ready', async () => {
    const ready: Ready<WriteCommand> = { persist: { promised: null, entries: [] }, messages: [], messagesAfterPersist: [], committed: [], reads: [{ id: 7, type: 'ready' }], dropped: [], snapshot: null }
    const { calls, loop, advance } = setup([ready])
    advance(25)
    expect(loop.deliver([heartbeat(1), heartbeat(2)])).toBe('queued')
    expect(loop.inboxDepth).toBe(2)
    await turn()
    expect(calls).toEqual(['step 1', 'step 2', 'tick', 'tick', 'reads 7', 'advance'])
    expect(loop.inboxDepth).toBe(0)
  })

  it('several deliveries before a turn share one turn (batching)', async () => {
    const { calls, loop } = setup()
    loop.deliver([heartbeat(1)])
    loop.deliver([heartbeat(2)])
    loop.schedule()
    await turn()
    expect(calls).toEqual(['step 1', 'step 2'])
  })

  it('a full inbox answers overloaded and queues nothing; loopback is never refused', async () => {
    const { calls, loop } = setup()
    const many = Array.from({ length: limits.inboxEnvelopesMax }, (_, index) => heartbeat(index))
    expect(loop.deliver(many)).toBe('queued')
    expect(loop.deliver([heartbeat(-1)])).toBe('overloaded')
    expect(loop.inboxDepth).toBe(limits.inboxEnvelopesMax)
    loop.loopback([heartbeat(-2)])
    expect(loop.inboxDepth).toBe(limits.inboxEnvelopesMax + 1)
    await turn()
    expect(calls).toHaveLength(limits.inboxEnvelopesMax + 1)
    expect(calls).not.toContain('step -1')
    expect(calls[calls.length - 1]).toBe('step -2')
  })

  it('an error in a turn goes to onFatal', async () => {
    const { loop, fatal, replica } = setup()
    replica.step = () => {
      throw new Error('boom')
    }
    loop.deliver([heartbeat(1)])
    await turn()
    expect(fatal).toHaveLength(1)
    expect((fatal[0] as Error).message).toBe('boom')
  })

  it('a stopped loop runs no more turns', async () => {
    const { calls, loop, advance } = setup()
    loop.stop()
    advance(100)
    expect(loop.deliver([heartbeat(1)])).toBe('queued')
    await turn()
    expect(calls).toEqual([])
  })
})
