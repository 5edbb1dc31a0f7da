/**
 * Goal: the CLI works as the contract says: `cluster` starts N real nodes, prints their URLs,
 * keeps its data across restarts, and stops them all on SIGTERM; `put`/`get`/`del`/`status`
 * talk to any node; bad flags exit 2 with one line naming the flag. Method: real processes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { cliPath, freePort, waitFor } from './harness.js'

const dataDir = mkdtempSync(join(tmpdir(), 'paxos-kv-cli-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: 30_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/**
 * The cluster runs in its own process group, so cleanup can end it and every node it started
 * even when a failed test never sent SIGTERM (an orphaned node would hold its port).
 */
const running = new Set<ChildProcess>()
afterEach(() => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL')
  running.clear()
})

async function startCluster(port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [cliPath, 'cluster', '--nodes', '3', '--port', String(port), '--data', dataDir, '--etcd-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  running.add(child)
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  try {
    // Every node up and agreeing on one leader, so any node may be addressed next.
    await waitFor('three nodes agreeing on a leader', async () => {
      const statuses = await Promise.all([0, 1, 2].map(async (offset) => {
        const response = await fetch(`http://127.0.0.1:${port + offset}/v1/status`).catch(() => null)
        return response?.ok === true ? ((await response.json()) as { leader: number | null }) : null
      }))
      const leaders = new Set(statuses.map((status) => status?.leader ?? null))
      return leaders.size === 1 && !leaders.has(null) ? true : null
    })
  } catch (error) {
    throw new Error(`${(error as Error).message}; cluster output:\n${output}`)
  }
  return { child, output: () => output }
}

async function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code))
    child.kill('SIGTERM')
  })
}

/** Listens on `count` consecutive free ports, so that nodes started there cannot bind. */
async function occupyConsecutivePorts(count: number): Promise<{ port: number; close: () => Promise<void> }> {
  const listen = (port: number) => new Promise<Server | null>((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(null))
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
  const closeAll = (servers: Server[]) => Promise.all(servers.map((server) => new Promise<void>((done) => server.close(() => done())))).then(() => {})
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = await freePort()
    if (port + count - 1 > 65_535) continue
    const servers = await Promise.all(Array.from({ length: count }, (_, offset) => listen(port + offset)))
    const bound = servers.filter((server): server is Server => server !== null)
    if (bound.length === count) return { port, close: () => closeAll(bound) }
    await closeAll(bound)
  }
  throw new Error('no run of free ports found')
}

/** The first of `count` consecutive ports that were free a moment ago (other tests may run). */
async function consecutiveFreePorts(count: number): Promise<number> {
  const probe = await occupyConsecutivePorts(count)
  await probe.close()
  return probe.port
}

describe('paxos-kv CLI', () => {
  it('cluster: three nodes, put on one, get on another, SIGTERM stops all, data survives a restart', async () => {
    const port = await consecutiveFreePorts(3)
    const first = await startCluster(port)
    expect(first.output()).toContain(`http://127.0.0.1:${port + 2}`)
    const url = (offset: number) => `http://127.0.0.1:${port + offset}`
    const put = await waitFor('a PUT', async () => {
      const result = cli('put', 'hello', 'world', '--url', url(1))
      return result.code === 0 ? result : null
    })
    expect(JSON.parse(put.stdout)).toEqual({ version: 1 })
    expect(cli('get', 'hello', '--url', url(2)).stdout).toBe('world')
    expect(cli('get', 'hello', '--stale', '--url', url(2)).code).toBe(0)
    const status = JSON.parse(cli('status', '--url', url(0)).stdout) as { peers: unknown[] }
    expect(status.peers).toHaveLength(2)
    expect(await stop(first.child)).toBe(0)
    await waitFor('every node to stop', async () => ((await fetch(`${url(0)}/v1/status`).catch(() => null)) === null ? true : null))

    const second = await startCluster(port)
    const again = await waitFor('the old value', async () => {
      const result = cli('get', 'hello', '--url', url(0))
      return result.code === 0 ? result.stdout : null
    })
    expect(again).toBe('world')
    const missing = cli('del', 'hello', '--cas', '7', '--url', url(0))
    expect(missing.code).toBe(1)
    expect(JSON.parse(missing.stderr)).toMatchObject({ error: 'cas_mismatch', version: 1 })

    // One node killed, a write made without it, then that node alone restarted with --only
    // (the README's restart-one-node recipe): it rejoins and catches up.
    const killed = spawnSync('pkill', ['-9', '-f', `serve --id 3 --port ${port + 2} `])
    expect(killed.status).toBe(0)
    await waitFor('node 3 to be down', async () => ((await fetch(`${url(2)}/v1/status`).catch(() => null)) === null ? true : null))
    expect(cli('put', 'while-down', 'yes', '--url', url(0)).code).toBe(0)
    const only = spawn(process.execPath, [cliPath, 'cluster', '--nodes', '3', '--port', String(port), '--data', dataDir, '--only', '3', '--etcd-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    running.add(only)
    const caughtUp = await waitFor('node 3 to serve the write it missed', async () => {
      const result = cli('get', 'while-down', '--stale', '--url', url(2))
      return result.code === 0 ? result.stdout : null
    })
    expect(caughtUp).toBe('yes')
    expect(await stop(only)).toBe(0)
    expect(await stop(second.child)).toBe(0)
  })

  it('cluster: when every node dies on its own, it says so for each and exits 1', async () => {
    const blockers = await occupyConsecutivePorts(3)
    try {
      const child = spawn(process.execPath, [cliPath, 'cluster', '--nodes', '3', '--port', String(blockers.port), '--data', join(dataDir, 'blocked'), '--etcd-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
      running.add(child)
      let output = ''
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
      const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)))
      expect(code).toBe(1)
      for (const id of [1, 2, 3]) expect(output).toContain(`[cluster] node ${id} exited unexpectedly (code 2)`)
      expect(output).toMatch(/\[node 1\] paxos-kv serve: --port: cannot listen/)
    } finally {
      await blockers.close()
    }
  })

  it('bad flags: one line naming the flag, exit code 2, nothing written', () => {
    const data = join(dataDir, 'never')
    const cases: Array<[string[], RegExp]> = [
      [['serve', '--id', '1', '--port', '99999', '--data', data, '--cluster', '1=http://127.0.0.1:1'], /--port/],
      [['serve', '--id', '4', '--port', '7001', '--data', data, '--cluster', '1=http://127.0.0.1:7001'], /--cluster/],
      [['serve', '--id', '1', '--port', '7001', '--data', data, '--cluster', '1=http://127.0.0.1:7001', '--fsync', 'sometimes'], /--fsync/],
      [['serve', '--id', '1', '--port', '7001', '--cluster', '1=http://127.0.0.1:7001'], /--data/],
      [['serve', '--id', '1', '--port', '7001', '--data', '/proc/paxos-kv-nope', '--cluster', '1=http://127.0.0.1:7001'], /--data: cannot open/],
      [['serve', '--id', '1', '--port', '7002', '--data', data, '--cluster', '1=http://127.0.0.1:7001'], /--cluster/],
      [['serve', '--id', '1', '--port', '7001', '--data', data, '--cluster', '1=http://127.0.0.1:7001', '--etcd-port', '70000'], /--etcd-port/],
      [['serve', '--bogus'], /--bogus/],
      [['get'], /argument/],
    ]
    for (const [args, flag] of cases) {
      const result = cli(...args)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1)
      expect(result.stderr).toMatch(flag)
    }
    expect(spawnSync('test', ['-e', data]).status).not.toBe(0)
  })

  it('serve with a taken --etcd-port: one line naming the flag, exit code 2', async () => {
    const taken = await occupyConsecutivePorts(1)
    try {
      const port = await freePort()
      const result = cli('serve', '--id', '1', '--port', String(port), '--data', join(dataDir, 'etcd-taken'), '--cluster', `1=http://127.0.0.1:${port}`, '--etcd-port', String(taken.port))
      expect(result.code).toBe(2)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      expect(result.stderr).toMatch(new RegExp(`--etcd-port: cannot listen on 127\\.0\\.0\\.1:${taken.port}`))
    } finally {
      await taken.close()
    }
  })
})
