/**
 * Goal: Debian's etcdctl watch works unchanged against a real 3-node cluster, on leader and
 * followers: `watch --prefix` sees the puts and deletes another etcdctl makes, in order, `--rev`
 * replays from a past revision, `--prev-kv` shows the value each change replaced, and a start
 * below the history is reported compacted. Method: real `serve` processes with --etcd-port;
 * etcdctl watch as a long-running child process, its output read as it prints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestCluster } from './harness.js'
import { etcdctl, EtcdctlProcess, etcdctlJson, haveEtcdctl } from './etcd-helpers.js'

describe.runIf(haveEtcdctl())('etcdctl watch against a 3-node cluster', () => {
  let cluster: TestCluster
  let leader: number
  let followers: number[]
  const watchers: EtcdctlProcess[] = []
  beforeAll(async () => {
    cluster = await TestCluster.start(3, ['--history-revisions', '50'], { etcd: true })
    leader = await cluster.leader()
    followers = cluster.ids.filter((id) => id !== leader)
  })
  afterAll(async () => {
    await Promise.all(watchers.map((watcher) => watcher.stop('SIGKILL')))
    await cluster?.stop()
  })

  function watch(id: number, args: readonly string[]): EtcdctlProcess {
    const watcher = new EtcdctlProcess(cluster.etcdEndpoint(id), ['watch', ...args])
    watchers.push(watcher)
    return watcher
  }

  it('watch --prefix on each follower sees what an etcdctl on another node writes, in order', async () => {
    const watching = followers.map((id) => watch(id, ['w/', '--prefix']))
    // The watch starts behind a read barrier: a put made once it is created is seen. Wait until
    // each watch is live (a first put shows), then write the rest.
    const writer = cluster.etcdEndpoint(leader)
    await expect.poll(async () => {
      await etcdctl(writer, ['put', 'w/ready', 'r'])
      return watching.every((watcher) => watcher.stdout.includes('w/ready'))
    }, { timeout: 15_000 }).toBe(true)
    await etcdctl(writer, ['put', 'w/a', '1'])
    await etcdctl(cluster.etcdEndpoint(followers[0]!), ['put', 'w/b', '2'])
    await etcdctl(writer, ['put', 'elsewhere', 'x'])
    await etcdctl(writer, ['del', 'w/a'])
    for (const watcher of watching) {
      const out = await watcher.waitForOutput((stdout) => stdout.includes('DELETE\nw/a\n'))
      const afterReady = out.slice(out.lastIndexOf('w/ready\nr\n') + 'w/ready\nr\n'.length)
      expect(afterReady).toBe('PUT\nw/a\n1\nPUT\nw/b\n2\nDELETE\nw/a\n\n')
    }
  })

  it('watch --rev replays from a past revision; --prev-kv shows the value each change replaced', async () => {
    const writer = cluster.etcdEndpoint(followers[1]!)
    await etcdctl(writer, ['put', 'r/k', 'one'])
    const first = (await etcdctlJson<{ header: { revision: number } }>(writer, ['get', 'r/k'])).header.revision
    await etcdctl(writer, ['put', 'r/k', 'two'])
    await etcdctl(writer, ['del', 'r/k'])
    const replay = watch(leader, ['r/k', `--rev=${first}`, '--prev-kv'])
    const out = await replay.waitForOutput((stdout) => stdout.includes('DELETE'))
    expect(out).toBe('PUT\nr/k\none\nPUT\nr/k\none\nr/k\ntwo\nDELETE\nr/k\ntwo\nr/k\n\n')
  })

  it('a --rev below the history is compacted: etcdctl says so and exits', async () => {
    const writer = cluster.etcdEndpoint(leader)
    for (let index = 0; index < 60; index += 1) await etcdctl(writer, ['put', 'c/k', String(index)])
    const compacted = watch(followers[0]!, ['c/k', '--rev=1'])
    await compacted.exited
    expect(compacted.stdout + compacted.stderr).toMatch(/compacted/)
  })
})
