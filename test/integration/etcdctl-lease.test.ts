/**
 * Goal: Debian's etcdctl lease commands, put --lease, lock and elect work unchanged against a
 * real 3-node cluster, on leader and followers: a lease granted, kept alive, listed, its time
 * to live with its keys, revoked (its keys go with it) or left to expire (its keys vanish);
 * `etcdctl lock NAME -- cmd` runs two lockers' commands one after the other, never at once;
 * `etcdctl elect` campaigns, a second candidate waits, and an observer sees each leader in turn.
 * Method: real `serve` processes with --etcd-port; etcdctl as child processes (long-running ones
 * read as they print); a shared file the locked commands append to shows their order.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestCluster } from './harness.js'
import { etcdctl, EtcdctlProcess, haveEtcdctl } from './etcd-helpers.js'

describe.runIf(haveEtcdctl())('etcdctl lease, lock and elect against a 3-node cluster', () => {
  let cluster: TestCluster
  let leader: number
  let followers: number[]
  const processes: EtcdctlProcess[] = []
  const dir = mkdtempSync(join(tmpdir(), 'paxos-kv-lock-'))
  beforeAll(async () => {
    cluster = await TestCluster.start(3, [], { etcd: true })
    leader = await cluster.leader()
    followers = cluster.ids.filter((id) => id !== leader)
  })
  afterAll(async () => {
    await Promise.all(processes.map((child) => child.stop('SIGKILL')))
    await cluster?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  function background(id: number | readonly number[], args: readonly string[]): EtcdctlProcess {
    const ids = typeof id === 'number' ? [id] : id
    const child = new EtcdctlProcess(ids.map((one) => cluster.etcdEndpoint(one)), args)
    processes.push(child)
    return child
  }

  async function ok(id: number, args: readonly string[]): Promise<string> {
    const result = await etcdctl(cluster.etcdEndpoint(id), args)
    expect(result.code, `etcdctl ${args.join(' ')}: ${result.stderr}`).toBe(0)
    return result.stdout
  }

  it('lease grant, put --lease, timetolive --keys, list, keep-alive, revoke: the keys go with the lease', async () => {
    const follower = followers[0]!
    const granted = await ok(follower, ['lease', 'grant', '60'])
    const id = /^lease ([0-9a-f]+) granted with TTL\(60s\)\n$/.exec(granted)?.[1]
    expect(id, granted).toBeDefined()
    await ok(leader, ['put', 'leased/a', '1', `--lease=${id}`])
    await ok(followers[1]!, ['put', 'leased/b', '2', `--lease=${id}`])
    expect(await ok(follower, ['lease', 'timetolive', id!, '--keys'])).toMatch(new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\((59|60)s\\), attached keys\\(\\[leased/a leased/b\\]\\)\\n$`))
    expect(await ok(leader, ['lease', 'list'])).toContain(`${id}\n`)
    expect(await ok(followers[1]!, ['lease', 'keep-alive', '--once', id!])).toBe(`lease ${id} keepalived with TTL(60)\n`)
    const keeping = background(follower, ['lease', 'keep-alive', id!])
    await keeping.waitForOutput((stdout) => stdout.includes(`lease ${id} keepalived with TTL(60)`))
    await keeping.stop()
    expect(await ok(leader, ['lease', 'revoke', id!])).toBe(`lease ${id} revoked\n`)
    expect(await ok(follower, ['get', 'leased/', '--prefix'])).toBe('')
    expect(await ok(follower, ['lease', 'timetolive', id!])).toBe(`lease ${id} already expired\n`)
    const again = await etcdctl(cluster.etcdEndpoint(leader), ['lease', 'revoke', id!])
    expect(again.code).not.toBe(0)
    expect(again.stderr).toContain('etcdserver: requested lease not found')
    const missing = await etcdctl(cluster.etcdEndpoint(follower), ['put', 'leased/c', '3', '--lease=1234abcd'])
    expect(missing.stderr).toContain('etcdserver: requested lease not found')
  })

  it('a lease left without keepalives expires: its key vanishes', async () => {
    const id = /^lease ([0-9a-f]+) granted/.exec(await ok(leader, ['lease', 'grant', '2']))![1]!
    await ok(followers[0]!, ['put', 'expiring/k', 'v', `--lease=${id}`])
    expect(await ok(followers[1]!, ['get', 'expiring/k', '--print-value-only'])).toBe('v\n')
    await expect.poll(async () => ok(followers[1]!, ['get', 'expiring/k']), { timeout: 15_000, interval: 250 }).toBe('')
    expect(await ok(leader, ['lease', 'timetolive', id])).toBe(`lease ${id} already expired\n`)
  })

  it('etcdctl lock NAME -- cmd: two lockers on different nodes run their commands one at a time', async () => {
    const log = join(dir, 'lock.log')
    const command = (who: string) => ['lock', 'jobs/nightly', '--', 'sh', '-c', `echo start ${who} >> ${log}; sleep 1; echo end ${who} >> ${log}`]
    const first = background([followers[0]!, leader], command('A'))
    const second = background([followers[1]!, leader], command('B'))
    expect(await first.exited, first.stderr).toBe(0)
    expect(await second.exited, second.stderr).toBe(0)
    const lines = readFileSync(log, 'utf8').trim().split('\n')
    expect(lines).toHaveLength(4)
    // Whoever got it first ran start to end before the other started.
    expect([lines[0]!.split(' ')[1], lines[1]!.split(' ')[1]]).toEqual([lines[0]!.split(' ')[1], lines[0]!.split(' ')[1]])
    expect(lines.map((line) => line.split(' ')[0])).toEqual(['start', 'end', 'start', 'end'])
    expect(await ok(leader, ['get', 'jobs/nightly', '--prefix'])).toBe('') // both released
  })

  it('etcdctl elect: a campaign leads, a second candidate waits, an observer sees each leader in turn', async () => {
    const observer = background(followers[0]!, ['elect', '-l', 'pick'])
    const alice = background(leader, ['elect', 'pick', 'alice'])
    await alice.waitForOutput((stdout) => stdout.includes('alice'))
    await observer.waitForOutput((stdout) => stdout.includes('alice'))
    const bob = background(followers[1]!, ['elect', 'pick', 'bob'])
    // Bob waits behind Alice's key; when Alice resigns (SIGINT closes her session), Bob leads.
    await alice.stop('SIGINT')
    await bob.waitForOutput((stdout) => stdout.includes('bob'))
    const seen = await observer.waitForOutput((stdout) => stdout.includes('bob'))
    expect(seen).toMatch(/^pick\/[0-9a-f]+\nalice\n(pick\/[0-9a-f]+\nbob\n)$/)
    await bob.stop('SIGINT')
  })
})
