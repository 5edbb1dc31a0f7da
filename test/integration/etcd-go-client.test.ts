/**
 * Goal: etcd's own Go client (go.etcd.io/etcd/clientv3, what most etcd programs are written
 * against) works unchanged against a paxos-kv cluster: KV with prev_kv, ranges, limits and
 * counts, Txn, Watch from a revision, the lease calls, the concurrency package's mutex and
 * election, MemberList and Status; through an endpoint list of all nodes and through one
 * follower; and across a kill -9 of the leader it moves to another endpoint and loses nothing it
 * was told was written. Method: test/etcd-go/main.go, built here offline against Debian's
 * golang-etcd-server-dev (GOPATH mode, no module proxy) and run against a real 3-node cluster
 * with --etcd-port; it prints one "ok NAME" or "FAIL NAME: why" line per check.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clusterPerTest, waitFor } from './harness.js'

const gocode = '/usr/share/gocode'
const source = fileURLToPath(new URL('../etcd-go', import.meta.url))
const checks = [
  'put and get',
  'range with prefix, limit and count',
  'delete one key with prev_kv, and a prefix',
  'txn compare and swap',
  'watch from a revision',
  'lease grant, keepalive, time to live and revoke',
  'concurrency mutex',
  'concurrency election',
  'member list and status',
]

/** Whether Go and etcd's Go client are installed; CI installs both (.ci/run), so there a missing one fails. */
function haveGoClient(): boolean {
  const found = spawnSync('go', ['version']).status === 0 && existsSync(join(gocode, 'src/go.etcd.io/etcd/clientv3'))
  if (!found && process.env.CI !== undefined) throw new Error('go or etcd\'s Go client is missing: .ci/run installs golang-go and golang-etcd-server-dev')
  if (!found) it.skip('skipped: go or etcd\'s Go client is missing (apt-get install golang-go golang-etcd-server-dev)', () => {})
  return found
}

type Run = Readonly<{ code: number | null; stdout: string; stderr: string }>

/** Runs the built program to its end; `onLine` sees stdout lines as they come. */
function run(binary: string, args: readonly string[], onLine: (line: string) => void = () => {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let partial = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      partial += chunk.toString()
      const lines = partial.split('\n')
      partial = lines.pop()!
      for (const line of lines) onLine(line)
    })
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

const startCluster = clusterPerTest()

describe('etcd\'s Go client against a 3-node cluster', () => {
  if (!haveGoClient()) return
  const buildDir = mkdtempSync(join(tmpdir(), 'paxos-kv-etcd-go-'))
  const binary = join(buildDir, 'etcd-go')
  beforeAll(() => {
    const built = spawnSync('go', ['build', '-o', binary, '.'], {
      cwd: source,
      encoding: 'utf8',
      // GOPATH mode resolves every import under Debian's /usr/share/gocode; nothing is fetched.
      env: { ...process.env, GO111MODULE: 'off', GOPATH: `${gocode}:${join(buildDir, 'gopath')}`, GOPROXY: 'off', GOFLAGS: '' },
    })
    if (built.status !== 0) throw new Error(`go build of test/etcd-go failed: ${built.stderr}`)
  }, 300_000)
  afterAll(() => rmSync(buildDir, { recursive: true, force: true }))

  it('every call passes through an endpoint list of all nodes, and through one follower alone', async () => {
    const cluster = await startCluster(3, [], { etcd: true })
    const leader = await cluster.leader()
    const follower = cluster.ids.find((id) => id !== leader)!
    const targets = [cluster.ids.map((id) => cluster.etcdEndpoint(id)), [cluster.etcdEndpoint(follower)]]
    for (const [index, endpoints] of targets.entries()) {
      const result = await run(binary, ['-endpoints', endpoints.join(','), '-mode', 'calls', '-prefix', `calls${index}/`])
      const failed = result.stdout.split('\n').filter((line) => line.startsWith('FAIL'))
      expect(failed, result.stderr).toEqual([])
      for (const check of checks) expect(result.stdout.split('\n'), `${check} through ${endpoints.join(',')}`).toContain(`ok ${check}`)
      expect(result.code).toBe(0)
    }
  })

  it('across a kill -9 of the leader, the client moves on and nothing acknowledged is lost', async () => {
    const cluster = await startCluster(3, [], { etcd: true })
    const oldLeader = await cluster.leader()
    const endpoints = cluster.ids.map((id) => cluster.etcdEndpoint(id)).join(',')
    const acknowledged: string[] = []
    let killing: Promise<void> | null = null
    const writes = await run(binary, ['-endpoints', endpoints, '-mode', 'write', '-prefix', 'durable/', '-count', '120'], (line) => {
      if (line.startsWith('acked ')) acknowledged.push(line.slice('acked '.length))
      if (acknowledged.length === 40 && killing === null) killing = cluster.kill(oldLeader)
    })
    expect(killing, writes.stderr).not.toBeNull()
    await killing
    expect(writes.code).toBe(0)
    // Only while the cluster elects a new leader may a put fail; most after the kill went through.
    const afterKill = acknowledged.filter((key) => Number(key.slice('durable/'.length)) >= 40)
    expect(afterKill.length, writes.stdout).toBeGreaterThan(60)
    const survivors = cluster.ids.filter((id) => id !== oldLeader)
    await cluster.leader(survivors)
    for (const id of survivors) {
      const read = await waitFor(`node ${id} to answer a linearizable range`, async () => {
        const result = await run(binary, ['-endpoints', cluster.etcdEndpoint(id), '-mode', 'read', '-prefix', 'durable/'])
        return result.code === 0 ? result.stdout : null
      })
      const values = new Map(read.trim().split('\n').map((line) => line.split(' ') as [string, string]))
      for (const key of acknowledged) expect(values.get(key), `${key} on node ${id}`).toBe(`v${Number(key.slice('durable/'.length))}`)
    }
  })
})
