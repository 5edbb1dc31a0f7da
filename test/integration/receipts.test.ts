/**
 * Goal: on a real cluster every successful write carries a true consensus receipt, whether the
 * leader served it or a follower forwarded it: the slot it was chosen in, the leader's ballot
 * and id, a majority quorum, and timings; when the leader's own vote counted, its fsync time.
 * Method: three real node processes; PUTs and a DELETE to the leader and to a follower.
 */
import { describe, expect, it } from 'vitest'
import { clusterPerTest, put } from './harness.js'

const newCluster = clusterPerTest()

describe('consensus receipts', () => {
  it('leader and follower answer the X-Paxos-* headers of the slot that chose the write', async () => {
    const cluster = await newCluster(3)
    const leader = await cluster.leader()
    const follower = cluster.ids.find((id) => id !== leader)!
    const slots: number[] = []
    for (const [via, index] of [[leader, 1], [follower, 2], [follower, 3]] as const) {
      const response = await put(cluster.url(via), `receipt-${index}`, 'v')
      expect(response.status).toBe(200)
      const header = (name: string) => response.headers.get(`x-paxos-${name}`)
      slots.push(Number(header('slot')))
      // On a loaded machine leadership may move between writes: the receipt names whoever led.
      const [round, proposer] = header('ballot')!.split('.').map(Number) as [number, number]
      expect(round).toBeGreaterThanOrEqual(1)
      expect(header('leader')).toBe(String(proposer))
      const quorum = header('quorum')!.split(',').map(Number)
      expect(quorum.length).toBeGreaterThanOrEqual(2)
      expect(quorum.every((id) => cluster.ids.includes(id))).toBe(true)
      expect(Number(header('commit-ms'))).toBeGreaterThanOrEqual(0)
      // The leader's vote counts only once its own fsync is done, so that time is known then.
      if (quorum.includes(proposer)) expect(Number(header('fsync-ms'))).toBeGreaterThanOrEqual(0)
    }
    expect(slots.every((slot, index) => index === 0 || slot > slots[index - 1]!)).toBe(true)
    const deleted = await fetch(`${cluster.url(follower)}/v1/kv/receipt-1`, { method: 'DELETE' })
    expect(deleted.status).toBe(200)
    expect(Number(deleted.headers.get('x-paxos-slot'))).toBeGreaterThan(slots[2]!)
  })
})
