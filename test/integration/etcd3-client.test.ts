/**
 * Goal: the etcd3 npm client library, given every node as an endpoint, works unchanged
 * whichever node leads, and across a leader's kill -9 loses nothing it was told was written.
 * Method: a real 3-node cluster with --etcd-port; the client's own calls (put, get, getAll with
 * prefix, keys, count, delete, maintenance status, member list); then sequential puts while
 * the leader is killed, each acknowledged put recorded, and every recorded put read back
 * (linearizable) from the survivors once a new leader serves.
 */
import { Etcd3 } from 'etcd3'
import { afterEach, describe, expect, it } from 'vitest'
import { clusterPerTest, waitFor } from './harness.js'

const startCluster = clusterPerTest()
const clients: Etcd3[] = []
afterEach(() => {
  for (const client of clients.splice(0)) client.close()
})

function clientOf(hosts: readonly string[]): Etcd3 {
  const client = new Etcd3({ hosts: [...hosts] })
  clients.push(client)
  return client
}

describe('the etcd3 client against a 3-node cluster', () => {
  it('put, get, prefix, keys, count, delete, status and member list through an endpoint list of all nodes', async () => {
    const cluster = await startCluster(3, [], { etcd: true })
    const endpoints = cluster.ids.map((id) => cluster.etcdEndpoint(id))
    const client = clientOf(endpoints)
    for (let index = 0; index < 12; index += 1) await client.put(`lib/${String(index).padStart(2, '0')}`).value(`value-${index}`)
    expect(await client.get('lib/03').string()).toBe('value-3')
    expect(await client.getAll().prefix('lib/').count()).toBe(12)
    expect((await client.getAll().prefix('lib/').keys()).slice(0, 3)).toEqual(['lib/00', 'lib/01', 'lib/02'])
    const page = await client.getAll().prefix('lib/').limit(5).exec()
    expect(page.kvs).toHaveLength(5)
    expect(page.more).toBe(true)
    expect(page.count).toBe('12')
    expect((await client.delete().key('lib/00').exec()).deleted).toBe('1')
    expect(await client.get('lib/00').string()).toBeNull()
    // Every node, each by itself: the same answers whichever one leads.
    const leader = await cluster.leader()
    for (const id of cluster.ids) {
      const one = clientOf([cluster.etcdEndpoint(id)])
      expect(await one.get('lib/11').string()).toBe('value-11')
      const status = await one.maintenance.status()
      expect(status.leader).toBe(String(leader))
      expect(status.header.member_id).toBe(String(id))
      const members = await one.cluster.memberList({})
      expect(members.members.map((member) => member.clientURLs)).toEqual(cluster.ids.map((member) => [`http://${cluster.etcdEndpoint(member)}`]))
    }
  })

  it('across a kill -9 of the leader, the client moves on and nothing acknowledged is lost', async () => {
    const cluster = await startCluster(3, [], { etcd: true })
    const oldLeader = await cluster.leader()
    const client = clientOf(cluster.ids.map((id) => cluster.etcdEndpoint(id)))
    const acknowledged = new Map<string, string>()
    const failures: string[] = []
    let killed = false
    for (let index = 0; index < 120; index += 1) {
      if (index === 40) {
        await cluster.kill(oldLeader)
        killed = true
      }
      const key = `durable/${String(index).padStart(3, '0')}`
      try {
        await client.put(key).value(`v${index}`)
        acknowledged.set(key, `v${index}`)
      } catch (error) {
        // Only while the cluster elects a new leader may a write fail; its outcome is unknown.
        failures.push(`${key}: ${(error as Error).message}`)
      }
    }
    expect(killed).toBe(true)
    console.info(`etcd3 across a leader kill: ${acknowledged.size} of 120 puts acknowledged, ${failures.length} failed`)
    const survivors = cluster.ids.filter((id) => id !== oldLeader)
    await cluster.leader(survivors)
    // Most writes after the kill went through: the client's retries found a serving node.
    const afterKill = [...acknowledged.keys()].filter((key) => Number(key.slice('durable/'.length)) >= 40)
    expect(afterKill.length, failures.join('\n')).toBeGreaterThan(60)
    for (const id of survivors) {
      const one = clientOf([cluster.etcdEndpoint(id)])
      const read = await waitFor(`node ${id} to serve a linearizable read`, async () => one.getAll().prefix('durable/').strings())
      for (const [key, value] of acknowledged) expect(read[key], `${key} on node ${id}`).toBe(value)
    }
  })

  it('a watch through all endpoints resumes across a kill -9 of the leader: every change once, in order, none missed', async () => {
    const cluster = await startCluster(3, [], { etcd: true })
    const oldLeader = await cluster.leader()
    const endpoints = cluster.ids.map((id) => cluster.etcdEndpoint(id))
    const writer = clientOf(endpoints)
    // Each watcher's own client: one of them may well sit on the leader that dies.
    let reconnects = 0
    const watchers = await Promise.all([0, 1, 2].map(async (index) => {
      const seen: Array<{ key: string; revision: number }> = []
      const watcher = await clientOf([...endpoints.slice(index), ...endpoints.slice(0, index)]).watch().prefix('resume/').create()
      watcher.on('put', (kv) => seen.push({ key: kv.key.toString(), revision: Number(kv.mod_revision) }))
      watcher.on('disconnected', () => (reconnects += 1))
      return seen
    }))
    for (let index = 0; index < 90; index += 1) {
      if (index === 30) await cluster.kill(oldLeader)
      try {
        await writer.put(`resume/${String(index).padStart(3, '0')}`).value(`v${index}`)
      } catch {
        // Only around the election may a write fail; whether it applied shows in the final read.
      }
    }
    const survivors = cluster.ids.filter((id) => id !== oldLeader)
    await cluster.leader(survivors)
    const final = await clientOf([cluster.etcdEndpoint(survivors[0]!)]).getAll().prefix('resume/').exec()
    // Every key was put once: the watch must show exactly those puts, at their revisions, in order.
    const expected = final.kvs.map((kv) => ({ key: kv.key.toString(), revision: Number(kv.mod_revision) })).sort((a, b) => a.revision - b.revision)
    expect(expected.length).toBeGreaterThan(60)
    for (const seen of watchers) {
      await waitFor('the watch to catch up', async () => (seen.length >= expected.length ? true : null))
      expect(seen).toEqual(expected)
    }
    // The leader change ended every watch stream (as api.md says): each watcher resumed at least once.
    expect(reconnects).toBeGreaterThanOrEqual(3)
  })

  it('a lease kept alive through a follower outlives its TTL, its key with it; released, the key goes', async () => {
    const cluster = await startCluster(3, [], { etcd: true })
    const leader = await cluster.leader()
    const follower = cluster.ids.find((id) => id !== leader)!
    const client = clientOf([cluster.etcdEndpoint(follower)])
    const lease = client.lease(2)
    let keepalives = 0
    lease.on('keepaliveSucceeded', () => (keepalives += 1))
    await lease.put('held/k').value('v').exec()
    // Three TTLs of keepalives (every third of the TTL, on the follower's stream, each answered by the leader).
    await waitFor('six keepalives', async () => (keepalives >= 6 ? true : null), 30_000)
    const read = clientOf([cluster.etcdEndpoint(leader)])
    expect(await read.get('held/k').string()).toBe('v')
    const ttl = await read.leaseClient.leaseTimeToLive({ ID: await lease.grant(), keys: true })
    expect(ttl.grantedTTL).toBe('2')
    expect(ttl.keys.map(String)).toEqual(['held/k'])
    await lease.revoke()
    expect(await read.get('held/k').string()).toBeNull()
  })
})
