/**
 * Goal: a waiting client gets exactly one answer: the settlement, or a timeout when its signal
 * fires first; a late settlement after the timeout is ignored and nothing leaks.
 * Method: Pending with AbortControllers.
 */
import { describe, expect, it } from 'vitest'
import { revision } from '../../src/core/index.js'
import { Pending } from '../../src/node/pending.js'

describe('Pending', () => {
  it('settles a write once, with its result', async () => {
    const pending = new Pending()
    const waiting = pending.waitWrite('p1', new AbortController().signal)
    pending.settleWrite('p1', { type: 'applied', result: { type: 'written', revision: revision(3), deleted: null } })
    pending.settleWrite('p1', { type: 'dropped' })
    expect(await waiting).toEqual({ type: 'applied', result: { type: 'written', revision: 3, deleted: null } })
    expect(pending.size).toBe(0)
  })

  it('times out when the signal fires, and forgets the waiter', async () => {
    const pending = new Pending()
    const controller = new AbortController()
    const write = pending.waitWrite('p2', controller.signal)
    const read = pending.waitRead(7, controller.signal)
    controller.abort()
    expect(await write).toEqual({ type: 'timeout' })
    expect(await read).toBe('timeout')
    pending.settleRead(7, 'ready')
    expect(pending.size).toBe(0)
  })

  it('is bounded: full at the limit, room again once a waiter is settled or times out', async () => {
    const pending = new Pending({ writesMax: 2, readsMax: 1 })
    const controller = new AbortController()
    void pending.waitWrite('a', controller.signal)
    expect(pending.writesFull).toBe(false)
    const second = pending.waitWrite('b', new AbortController().signal)
    expect(pending.writesFull).toBe(true)
    pending.settleWrite('b', { type: 'dropped' })
    expect(await second).toEqual({ type: 'dropped' })
    expect(pending.writesFull).toBe(false)
    const read = pending.waitRead(1, controller.signal)
    expect(pending.readsFull).toBe(true)
    controller.abort()
    expect(await read).toBe('timeout')
    expect(pending.readsFull).toBe(false)
    expect(pending.size).toBe(0) // 'a' shared the aborted signal, so it timed out too
  })

  it('an already aborted signal times out at once', async () => {
    const pending = new Pending()
    expect(await pending.waitRead(1, AbortSignal.abort())).toBe('timeout')
  })
})
