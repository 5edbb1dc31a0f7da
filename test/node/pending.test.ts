/**
 * Goal: a waiting client gets exactly one answer: the settlement, or a timeout when its time
 * runs out first; a late settlement after the timeout is ignored and nothing leaks.
 * Method: Pending with real (short) timers.
 */
import { describe, expect, it } from 'vitest'
import { revision, slot } from '../../src/core/index.js'
import { Pending } from '../../src/node/pending.js'

const long = 60_000

describe('Pending', () => {
  it('settles a write once, with its result', async () => {
    const pending = new Pending()
    const waiting = pending.waitWrite('p1', long)
    pending.settleWrite('p1', { type: 'applied', slot: slot(7), result: { type: 'written', revision: revision(3), deleted: null } })
    pending.settleWrite('p1', { type: 'dropped' })
    expect(await waiting).toEqual({ type: 'applied', slot: 7, result: { type: 'written', revision: 3, deleted: null } })
    expect(pending.size).toBe(0)
  })

  it('times out when its time runs out, forgets the waiter, and ignores a late settlement', async () => {
    const pending = new Pending()
    const write = pending.waitWrite('p2', 5)
    const read = pending.waitRead(7, 5)
    expect(pending.size).toBe(2)
    expect(await write).toEqual({ type: 'timeout' })
    expect(await read).toBe('timeout')
    pending.settleRead(7, 'ready')
    pending.settleWrite('p2', { type: 'dropped' })
    expect(pending.size).toBe(0)
  })

  it('a settled waiter does not time out later', async () => {
    const pending = new Pending()
    const read = pending.waitRead(3, 5)
    pending.settleRead(3, 'ready')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await read).toBe('ready')
  })

  it('is bounded: full at the limit, room again once a waiter is settled or times out', async () => {
    const pending = new Pending({ writesMax: 2, readsMax: 1 })
    const first = pending.waitWrite('a', 5)
    expect(pending.writesFull).toBe(false)
    const second = pending.waitWrite('b', long)
    expect(pending.writesFull).toBe(true)
    pending.settleWrite('b', { type: 'dropped' })
    expect(await second).toEqual({ type: 'dropped' })
    expect(pending.writesFull).toBe(false)
    const read = pending.waitRead(1, 5)
    expect(pending.readsFull).toBe(true)
    expect(await read).toBe('timeout')
    expect(await first).toEqual({ type: 'timeout' })
    expect(pending.readsFull).toBe(false)
    expect(pending.size).toBe(0)
  })

  it('no time left times out at once', async () => {
    const pending = new Pending()
    expect(await pending.waitRead(1, 0)).toBe('timeout')
    expect(await pending.waitWrite('c', -5)).toEqual({ type: 'timeout' })
    expect(pending.size).toBe(0)
  })
})
