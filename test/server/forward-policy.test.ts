/**
 * Goal: the forwarding decisions are the ones that keep a write applied once: a forward that may
 * have reached the leader is tried again only when retries are safe (the request carries an id
 * the state machine dedupes), a refused or declined forward is always safe to try again, a
 * forwarded request is never forwarded on, and giving up says whether anything may have applied.
 * Method: the pure policy stepped through each path, time as plain numbers.
 */
import { describe, expect, it } from 'vitest'
import { nodeId } from '../../src/core/index.js'
import { ForwardPolicy, type ForwardPolicyOptions } from '../../src/server/forward-policy.js'

const self = nodeId(1)
const leader = nodeId(2)
const policy = (options: Partial<ForwardPolicyOptions> = {}) => new ForwardPolicy({ self, forwarded: false, retrySafe: true, deadline: 100, retryDelay: 10, ...options })

describe('ForwardPolicy', () => {
  it('tries here first, then forwards to the leader this node knows', () => {
    const p = policy()
    expect(p.first()).toEqual({ type: 'local' })
    expect(p.forwardedOnce).toBe(false)
    expect(p.after({ type: 'not_leader', leader }, 0)).toEqual({ type: 'forward', to: leader })
    expect(p.forwardedOnce).toBe(true)
  })

  it('waits for a leader when none is known (or it names itself), until the deadline: unavailable', () => {
    const p = policy()
    p.first()
    expect(p.after({ type: 'not_leader', leader: null }, 0)).toEqual({ type: 'wait' })
    expect(p.resume(0)).toEqual({ type: 'local' })
    expect(p.after({ type: 'not_leader', leader: self }, 50)).toEqual({ type: 'wait' })
    expect(p.resume(0)).toEqual({ type: 'local' })
    expect(p.after({ type: 'not_leader', leader: null }, 90)).toEqual({ type: 'give_up', outcome: 'unavailable' })
  })

  it.each(['refused', 'not_leader'] as const)('a %s forward had no effect: wait, ask this node again, and forward again', (type) => {
    const p = policy({ retrySafe: false })
    p.first()
    p.after({ type: 'not_leader', leader }, 0)
    const outcome = type === 'refused' ? { type } : { type, leader: nodeId(3) }
    expect(p.after(outcome, 10)).toEqual({ type: 'wait' })
    expect(p.resume(0)).toEqual({ type: 'local' })
    // The target's hint is not followed directly; this node's own view is.
    expect(p.after({ type: 'not_leader', leader }, 30)).toEqual({ type: 'forward', to: leader })
    expect(p.after(outcome, 95)).toEqual({ type: 'give_up', outcome: 'unavailable' })
  })

  it('a wait that overran the deadline gives up instead of trying again', () => {
    const p = policy()
    p.first()
    expect(p.after({ type: 'not_leader', leader: null }, 80)).toEqual({ type: 'wait' })
    expect(p.resume(100)).toEqual({ type: 'give_up', outcome: 'unavailable' })
  })

  it('an unknown outcome ends the request when a retry could apply it twice', () => {
    const p = policy({ retrySafe: false })
    p.first()
    p.after({ type: 'not_leader', leader }, 0)
    expect(p.after({ type: 'unknown' }, 10)).toEqual({ type: 'give_up', outcome: 'unknown' })
  })

  it('with dedupe, an unknown outcome is retried, and a later timeout still says unknown', () => {
    const p = policy()
    p.first()
    p.after({ type: 'not_leader', leader }, 0)
    expect(p.after({ type: 'unknown' }, 10)).toEqual({ type: 'wait' })
    expect(p.resume(0)).toEqual({ type: 'local' })
    expect(p.after({ type: 'not_leader', leader: null }, 20)).toEqual({ type: 'wait' })
    expect(p.resume(0)).toEqual({ type: 'local' })
    expect(p.after({ type: 'not_leader', leader: null }, 95)).toEqual({ type: 'give_up', outcome: 'unknown' })
  })

  it('a forwarded request is only tried here; declining it goes back to the forwarder', () => {
    const p = policy({ forwarded: true })
    expect(p.first()).toEqual({ type: 'local' })
    expect(p.after({ type: 'not_leader', leader }, 0)).toEqual({ type: 'not_leader', leader })
    expect(p.forwardedOnce).toBe(false)
  })

  it('no step after the policy finished, and no outcome without a step', () => {
    const finished = policy({ forwarded: true })
    finished.first()
    finished.after({ type: 'not_leader', leader: null }, 0)
    expect(() => finished.after({ type: 'not_leader', leader: null }, 0)).toThrow()
    expect(() => policy().after({ type: 'refused' }, 0)).toThrow()
    expect(() => policy().resume(0)).toThrow()
  })
})
