/**
 * Goal: a node that comes back never stalls the healthy majority. A follower killed while the
 * log grows by thousands of slots restarts: every write through the other two answers 200 the
 * whole time, and it catches up (its applied index reaches the leader's) within 60 s. A follower
 * cut off by a partition for several election timeouts causes no election when it returns; nor
 * does a leader cut off (once replaced) when it returns.
 * Method: real 3-node clusters (the partition: every peer link runs through a TCP proxy the
 * test cuts; SIGSTOP would not do, a stopped node's timers stop too). `--fsync off`, because the
 * log must grow by thousands of slots in seconds on a shared machine (durability has its own
 * tests); default ticks (10 ms, election timeout 150-300 ms): since a turn counts at most 2
 * ticks, a node's own slow turns no longer read as its peers' silence, and this test counts
 * elections. (It ran with 50 ms ticks before that fix, at load averages around 20.)
 * Before pre-vote, the first test stalled the healthy pair at about 6,700 slots behind: the
 * restarted node campaigned with ever higher ballots and every prepare deposed the leader.
 */
import { describe, expect, it } from 'vitest'
import { clusterPerTest, put, waitFor, type TestCluster } from './harness.js'

const startCluster = clusterPerTest()
const flags = ['--fsync', 'off']
/**
 * Slots the restarted follower must catch up on: the 9,800 (70k writes). The build
 * before pre-vote stalled at 6,700 (by hand) and never caught up within 60 s from 4,000 (this
 * test, pre-vote switched off).
 */
const slotsBehind = 9800
/** Writing `slotsBehind` slots took one to two minutes here at load averages around 20. */
const fillTimeoutMs = 240_000
const writers = 32
const keys = 1000
const writeTimeoutMs = 10_000

type WriteLog = { ok: number; failed: string[] }

/** `count` writers overwrite `keys` keys through `targets` until `done()`; every answer is logged. */
async function writeUntil(cluster: TestCluster, targets: readonly number[], count: number, done: () => boolean, log: WriteLog): Promise<void> {
  await Promise.all(Array.from({ length: count }, async (_, writer) => {
    for (let index = 0; !done(); index += 1) {
      const target = targets[(writer + index) % targets.length]!
      const key = `rejoin/${(writer * 7919 + index) % keys}`
      try {
        const response = await put(cluster.url(target), key, `w${writer}-${index}`, {}, writeTimeoutMs)
        await response.arrayBuffer()
        if (response.status === 200) log.ok += 1
        else log.failed.push(`PUT ${key} via node ${target}: ${response.status}`)
      } catch (error) {
        log.failed.push(`PUT ${key} via node ${target}: ${(error as Error).name}`)
      }
    }
  }))
}

/**
 * While writes go through `others`, `cutOff` is kept isolated until its election timer has fired
 * three times (pre-votes nobody answers), then healed until it has applied what `leader` had
 * committed. Returns the writes' log. `isolate`: cut it off here (else the caller already did).
 */
async function cutOffAndHeal(cluster: TestCluster, cutOff: number, leader: number, others: readonly number[], before: readonly number[], isolate: boolean): Promise<WriteLog> {
  let done = false
  const log: WriteLog = { ok: 0, failed: [] }
  const writing = writeUntil(cluster, others, 4, () => done, log)
  try {
    if (isolate) cluster.isolate(cutOff)
    await waitFor(`node ${cutOff}'s election timer to fire 3 times`, async () => {
      const [asked, campaigned] = await Promise.all([cluster.metric(cutOff, 'paxos_kv_pre_votes_total'), cluster.metric(cutOff, 'paxos_kv_elections_total')])
      return (asked ?? 0) + (campaigned ?? 0) - before[cutOff - 1]! >= 3 ? true : null
    }, 60_000)
    const committed = (await cluster.status(leader))!.commitIndex
    cluster.isolate(cutOff, false)
    await waitFor(`node ${cutOff} to catch up`, async () => {
      const status = await cluster.status(cutOff)
      return status !== null && status.appliedIndex >= committed ? true : null
    }, 60_000)
  } finally {
    done = true
    await writing
  }
  return log
}

async function elections(cluster: TestCluster, ids: readonly number[]): Promise<number[]> {
  return Promise.all(ids.map(async (id) => (await cluster.metric(id, 'paxos_kv_elections_total')) ?? 0))
}

describe('a returning node', () => {
  it(`a follower down for ${slotsBehind} slots comes back: writes through the others never fail, and it catches up within 60 s`, async () => {
    const cluster = await startCluster(3, flags)
    const leader = await cluster.leader()
    const returning = cluster.ids.find((id) => id !== leader)!
    const healthy = cluster.ids.filter((id) => id !== returning)
    await cluster.kill(returning)

    let leaderCommit = 0
    const growing = setInterval(() => void cluster.status(leader).then((status) => (leaderCommit = status?.commitIndex ?? leaderCommit)), 200)
    const fillDeadline = performance.now() + fillTimeoutMs
    const before: WriteLog = { ok: 0, failed: [] }
    // Through the leader alone: a forwarded write costs a follower's CPU too, and the log must grow fast.
    await writeUntil(cluster, [leader], writers, () => leaderCommit >= slotsBehind || performance.now() > fillDeadline, before)
      .finally(() => clearInterval(growing))
    if (leaderCommit < slotsBehind) throw new Error(`timed out waiting for the log to grow to ${slotsBehind} slots (at ${leaderCommit})`)

    // The rejoin: the follower restarts on its data while writes keep flowing through the others.
    const electionsBefore = await elections(cluster, healthy)
    const backlog = (await cluster.status(leader))!.commitIndex
    cluster.startNode(returning)
    let caughtUp = false
    const during: WriteLog = { ok: 0, failed: [] }
    const writing = writeUntil(cluster, healthy, writers / 4, () => caughtUp, during)
    try {
      await waitFor(`node ${returning} to apply the ${backlog} slots it missed`, async () => {
        const status = await cluster.status(returning)
        return status !== null && status.appliedIndex >= backlog ? true : null
      }, 60_000)
    } finally {
      caughtUp = true
      await writing
    }
    expect(during.failed).toEqual([])
    expect(during.ok).toBeGreaterThan(0)
    // Writes have stopped: the follower's applied index reaches the leader's.
    await waitFor(`node ${returning} to converge with the leader`, async () => {
      const [mine, theirs] = await Promise.all([cluster.status(returning), cluster.status(leader)])
      return mine !== null && theirs !== null && mine.appliedIndex === theirs.appliedIndex ? true : null
    }, 60_000)
    expect(await elections(cluster, healthy)).toEqual(electionsBefore)
    expect((await cluster.status(returning))?.leader).toBe(leader)
  }, fillTimeoutMs + 150_000)

  it('a follower partitioned away for several election timeouts causes no election when it returns', async () => {
    // Two of three carry the cluster while one is cut off, so one slow ack makes the leader miss
    // its quorum check: a longer tick keeps load from causing elections this test would count.
    const cluster = await startCluster(3, ['--fsync', 'off', '--tick-ms', '100'], { partitionable: true })
    const leader = await cluster.leader()
    const cutOff = cluster.ids.find((id) => id !== leader)!
    const others = cluster.ids.filter((id) => id !== cutOff)
    const before = await elections(cluster, cluster.ids)
    const ballot = (await cluster.status(leader))!.ballot
    // Its election timer fires again and again while it hears nobody. With pre-vote it only
    // asks (nobody answers); without, each firing would be a campaign with a higher ballot.
    const log = await cutOffAndHeal(cluster, cutOff, leader, others, before, true)
    expect(await elections(cluster, cluster.ids)).toEqual(before)
    expect((await cluster.status(leader))?.ballot).toEqual(ballot)
    expect((await cluster.status(leader))?.role).toBe('leader')
    expect((await cluster.status(cutOff))?.leader).toBe(leader)
    expect(log.failed).toEqual([])
    expect(log.ok).toBeGreaterThan(0)
  }, 120_000)

  it('a leader partitioned away is replaced once, and causes no further election when it returns', async () => {
    const cluster = await startCluster(3, ['--fsync', 'off', '--tick-ms', '100'], { partitionable: true })
    const oldLeader = await cluster.leader()
    const others = cluster.ids.filter((id) => id !== oldLeader)
    cluster.isolate(oldLeader)
    // The cut-off leader steps down once it hears no quorum; the other two elect one of them.
    const newLeader = await cluster.leader(others)
    await waitFor(`node ${oldLeader} to step down`, async () => ((await cluster.status(oldLeader))?.role !== 'leader' ? true : null), 60_000)
    const before = await elections(cluster, cluster.ids)
    const ballot = (await cluster.status(newLeader))!.ballot
    // While cut off its election timer fires again and again: pre-votes nobody answers.
    const log = await cutOffAndHeal(cluster, oldLeader, newLeader, others, before, false)
    expect(await elections(cluster, cluster.ids)).toEqual(before)
    expect((await cluster.status(newLeader))?.ballot).toEqual(ballot)
    expect((await cluster.status(newLeader))?.role).toBe('leader')
    expect((await cluster.status(oldLeader))?.leader).toBe(newLeader)
    expect(log.failed).toEqual([])
    expect(log.ok).toBeGreaterThan(0)
  }, 150_000)
})
