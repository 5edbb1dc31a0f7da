/**
 * Goal: `paxos-kv cluster` refuses bad flags with a message naming the flag, and keeps one
 * identity (secret and cluster id) per data directory: made once, reused on restart, and a
 * damaged or mismatched cluster.json is refused rather than overwritten.
 * Method: parseClusterArgs tables; loadOrCreateIdentity on temp dirs; runCluster on a bad file
 * (it must return 2 before spawning anything).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { loadOrCreateIdentity, parseClusterArgs, runCluster } from '../../src/cli/cluster.js'

const root = mkdtempSync(join(tmpdir(), 'paxos-kv-cluster-cli-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('parseClusterArgs', () => {
  it('has the documented defaults', () => {
    expect(parseClusterArgs([])).toEqual({ nodes: 3, basePort: 7001, dataDir: resolve('./data'), only: null, debugStep: false, etcdBasePort: 2379 })
    expect(parseClusterArgs(['--nodes', '5', '--port', '9001', '--data', '/tmp/x'])).toEqual({ nodes: 5, basePort: 9001, dataDir: '/tmp/x', only: null, debugStep: false, etcdBasePort: 2379 })
    expect(parseClusterArgs(['--etcd-port', '0'])).toMatchObject({ etcdBasePort: 0 })
    expect(parseClusterArgs(['--etcd-port', '12379'])).toMatchObject({ etcdBasePort: 12379 })
    expect(parseClusterArgs(['--debug-step'])).toMatchObject({ debugStep: true })
    expect(parseClusterArgs(['--only', '2'])).toMatchObject({ nodes: 3, only: 2 })
  })

  it.each([
    [['--nodes', '0'], /--nodes/],
    [['--nodes', '8'], /--nodes/],
    [['--nodes', '2.5'], /--nodes/],
    [['--port', 'http'], /--port/],
    [['--port', '65535', '--nodes', '3'], /--port/],
    [['--data', ''], /--data/],
    [['--bogus'], /--bogus/],
    [['--only', '4'], /--only/],
    [['--only', '0'], /--only/],
    [['--only', 'two'], /--only/],
    [['--etcd-port', '65530'], /--etcd-port/],
    [['--etcd-port', 'x'], /--etcd-port/],
  ])('refuses %j naming the flag', (argv, flag) => {
    const result = parseClusterArgs(argv)
    expect(typeof result).toBe('string')
    expect(result).toMatch(flag)
  })
})

describe('cluster identity', () => {
  it('is made once, private to the owner, and reused', () => {
    const dir = join(root, 'fresh')
    const first = loadOrCreateIdentity(dir, 3)
    if (typeof first === 'string') throw new Error(first)
    expect(first.secret.length).toBeGreaterThanOrEqual(32)
    expect(first.clusterId).toMatch(/^dev-[0-9a-f]{12}$/)
    expect(statSync(join(dir, 'cluster.json')).mode & 0o777).toBe(0o600)
    expect(loadOrCreateIdentity(dir, 3)).toEqual(first)
    expect(loadOrCreateIdentity(join(root, 'other'), 3)).not.toEqual(first)
  })

  it('refuses another cluster size for the same data', () => {
    const dir = join(root, 'sized')
    loadOrCreateIdentity(dir, 3)
    expect(loadOrCreateIdentity(dir, 5)).toMatch(/^--nodes: .* holds a 3-node cluster/)
  })

  it('refuses a damaged or foreign cluster.json and leaves it as it was', async () => {
    for (const [name, content] of [['damaged', '{"secret": '], ['foreign', '{"hello": "world"}']] as const) {
      const dir = join(root, name)
      loadOrCreateIdentity(dir, 3)
      writeFileSync(join(dir, 'cluster.json'), content)
      expect(loadOrCreateIdentity(dir, 3)).toMatch(/^--data: /)
      let stderr = ''
      vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true))
      const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
      const code = await runCluster(['--data', dir, '--port', '1'])
      vi.restoreAllMocks()
      expect(code).toBe(2)
      expect(stdout).not.toHaveBeenCalled() // no node was started (each start is announced)
      expect(stderr.trim().split('\n')).toHaveLength(1)
      expect(readFileSync(join(dir, 'cluster.json'), 'utf8')).toBe(content)
    }
  })

  it('--only refuses a data directory that holds no cluster yet, and creates nothing', async () => {
    const dir = join(root, 'no-cluster-yet')
    let stderr = ''
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true))
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    const code = await runCluster(['--data', dir, '--only', '2'])
    vi.restoreAllMocks()
    expect(code).toBe(2)
    expect(stdout).not.toHaveBeenCalled()
    expect(stderr).toMatch(/--only: .* holds no cluster yet/)
    expect(existsSync(dir)).toBe(false)
  })
})
