/**
 * Goal: /v1/status has the documented fields, /metrics speaks the Prometheus text format and
 * its counters and gauges follow real work on every node (writes applied, indexes, peer
 * traffic), and a node started without any secret says so loudly in its log.
 * Method: a real 3-node cluster; values are compared with what the test did, never with time.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cliPath, clusterPerTest, freePort, putEventually, sample, waitFor } from './harness.js'

const startCluster = clusterPerTest()

describe('observability', () => {
  it('status and metrics follow the writes on every node', async () => {
    const cluster = await startCluster()
    const leader = await cluster.leader()
    const writes = 5
    for (let index = 0; index < writes; index += 1) await putEventually(cluster.url(1 + (index % 3)), `m/${index}`, 'v')
    // Every node applies every write; followers may lag by a heartbeat, hence the bounded wait.
    for (const id of cluster.ids) {
      const status = await waitFor(`node ${id} to apply ${writes} writes`, async () => {
        const current = await cluster.status(id)
        return current !== null && current.revision === writes ? current : null
      })
      expect(Object.keys(status).sort()).toEqual(['appliedIndex', 'ballot', 'commitIndex', 'etcdUrl', 'id', 'leader', 'peers', 'revision', 'role', 'snapshot'])
      // Five writes are far below a snapshot's interval: none taken, nothing truncated or sent.
      expect((status as unknown as { snapshot: unknown }).snapshot).toEqual({ newestIndex: null, logCompactedThrough: 0, sent: 0, installed: 0 })
      expect((status as { etcdUrl?: unknown }).etcdUrl).toBeNull() // started without --etcd-port
      expect(cluster.ids).toContain(status.leader)
      expect(status.appliedIndex).toBeLessThanOrEqual(status.commitIndex)
      const response = await fetch(`${cluster.url(id)}/metrics`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
      const text = await response.text()
      // The writes, and the lease epoch marker of each leader that took over (one, or more after
      // an election under load).
      expect(sample(text, 'paxos_kv_commands_applied_total')).toBeGreaterThanOrEqual(writes + 1)
      expect(sample(text, 'paxos_kv_applied_index')).toBeGreaterThanOrEqual(1)
      expect(sample(text, 'paxos_kv_commit_index')).toBeGreaterThanOrEqual(sample(text, 'paxos_kv_applied_index')!)
      expect(sample(text, 'paxos_kv_peer_messages_sent_total')).toBeGreaterThan(0)
      expect(sample(text, 'paxos_kv_transactions_total')).toBeGreaterThan(0)
      // Every node fsyncs before it votes: followers for their accepts, the leader for its own.
      expect(sample(text, 'paxos_kv_wal_sync_seconds_count')).toBeGreaterThan(0)
      expect(text).toMatch(/^# TYPE paxos_kv_http_request_seconds histogram$/m)
      // Reachability is known for the links in use: the leader's to each follower and each
      // follower's to the leader. A link between two followers may carry nothing, and one that
      // was refused while its peer was still starting (a loaded machine) stays marked down.
      // A refused link reopens after a backoff: wait for it, never for a time.
      const links = id === leader ? cluster.ids.filter((other) => other !== id) : [leader]
      for (const peer of links) {
        await waitFor(`node ${id} to reach node ${peer}`, async () => ((await cluster.metric(id, `paxos_kv_peer_reachable{peer="${peer}"}`)) === 1 ? true : null))
      }
    }
    // A leader change mid-test (a slow machine) splits these counts across nodes: sum them.
    const texts = await Promise.all(cluster.ids.map(async (id) => (await fetch(`${cluster.url(id)}/metrics`)).text()))
    const total = (series: string) => texts.reduce((sum, text) => sum + (sample(text, series) ?? 0), 0)
    expect(total('paxos_kv_slots_chosen_total')).toBeGreaterThanOrEqual(writes)
    expect(total('paxos_kv_became_leader_total')).toBeGreaterThanOrEqual(1)
    expect(sample(texts[leader - 1]!, 'paxos_kv_became_leader_total')).toBeGreaterThanOrEqual(1)
  })

  it('a node without any secret warns that it uses the development secret', async () => {
    const port = await freePort()
    const dataDir = mkdtempSync(join(tmpdir(), 'paxos-kv-nosecret-'))
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info' }
    delete env.PAXOS_KV_SECRET
    const child = spawn(process.execPath, [cliPath, 'serve', '--id', '1', '--port', String(port), '--data', dataDir, '--cluster', `1=http://127.0.0.1:${port}`], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    try {
      await waitFor('the node to serve', async () => ((await fetch(`http://127.0.0.1:${port}/v1/status`)).ok ? true : null))
      const warning = stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { level: number; msg: string }).find((entry) => /development secret/.test(entry.msg))
      expect(warning?.level).toBe(40)
    } finally {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGKILL')
      })
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
