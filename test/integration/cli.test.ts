/**
 * Goal: the CLI works as the contract says: `cluster` starts N real nodes, prints their URLs,
 * keeps its data across restarts, and stops them all on SIGTERM; `put`/`get`/`del`/`status`
 * talk to any node; bad flags exit 2 with one line naming the flag. Method: real processes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cliPath, freePort, waitFor } from './harness.js'

const dataDir = mkdtempSync(join(tmpdir(), 'paxos-kv-cli-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: 30_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

async function startCluster(port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [cliPath, 'cluster', '--nodes', '3', '--port', String(port), '--data', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  await waitFor('a leader', async () => {
    const statuses = await Promise.all([0, 1, 2].map(async (offset) => {
      const response = await fetch(`http://127.0.0.1:${port + offset}/v1/status`).catch(() => null)
      return response?.ok === true ? ((await response.json()) as { role: string }) : null
    }))
    return statuses.some((status) => status?.role === 'leader') ? true : null
  })
  return { child, output: () => output }
}

async function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code))
    child.kill('SIGTERM')
  })
}

describe('paxos-kv CLI', () => {
  it('cluster: three nodes, put on one, get on another, SIGTERM stops all, data survives a restart', async () => {
    const port = await freePort()
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
    expect(await stop(second.child)).toBe(0)
  })

  it('bad flags: one line naming the flag, exit code 2, nothing written', () => {
    const data = join(dataDir, 'never')
    const cases: Array<[string[], RegExp]> = [
      [['serve', '--id', '1', '--port', '99999', '--data', data, '--cluster', '1=http://127.0.0.1:1'], /--port/],
      [['serve', '--id', '4', '--port', '7001', '--data', data, '--cluster', '1=http://127.0.0.1:7001'], /--cluster/],
      [['serve', '--id', '1', '--port', '7001', '--data', data, '--cluster', '1=http://127.0.0.1:7001', '--fsync', 'sometimes'], /--fsync/],
      [['serve', '--id', '1', '--port', '7001', '--cluster', '1=http://127.0.0.1:7001'], /--data/],
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
})
