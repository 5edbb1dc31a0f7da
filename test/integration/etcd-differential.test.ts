/**
 * Goal: paxos-kv speaks etcd, not our idea of it: the same script of KV, Watch, Lease and
 * Compact requests answered by a real etcd 3.4 (Debian's etcd-server) and by a paxos-kv
 * cluster's etcd port gives the same answers, field by field. Revisions are compared as offsets from each store's revision before
 * the script (a fresh etcd starts at 1, paxos-kv at 0); header ids and terms are each
 * system's own. Method: etcd started by the test on free 127.0.0.1 ports in a temp dir, single
 * member; a real 3-node paxos-kv cluster; the same etcd3 client code against both; every
 * answer normalized and compared. Known, intended differences are listed with their reason.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Etcd3, type IKeyValue } from 'etcd3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, TestCluster, waitFor } from './harness.js'

const etcdPath = '/usr/bin/etcd'

function haveEtcd(): boolean {
  const found = spawnSync(etcdPath, ['--version']).status === 0
  if (!found && process.env.CI !== undefined) throw new Error(`${etcdPath} is missing: .ci/run installs etcd-server`)
  if (!found) it.skip(`skipped: ${etcdPath} is missing (apt-get install etcd-server)`, () => {})
  return found
}

/** A single-member etcd on free ports in its own temp dir; stopped (kill -9) and removed after. */
async function startEtcd(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'paxos-kv-etcd-'))
  const [client, peer] = [await freePort(), await freePort()]
  const child: ChildProcess = spawn(etcdPath, [
    '--name', 'reference', '--data-dir', join(dir, 'data'),
    '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `reference=http://127.0.0.1:${peer}`, '--log-level', 'error',
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const endpoint = `127.0.0.1:${client}`
  const probe = new Etcd3({ hosts: endpoint })
  try {
    await waitFor('etcd to serve', async () => (await probe.maintenance.status()).version, 30_000)
  } catch (error) {
    child.kill('SIGKILL')
    throw new Error(`${(error as Error).message}: ${stderr}`)
  } finally {
    probe.close()
  }
  return {
    endpoint,
    stop: async () => {
      if (child.exitCode === null) await new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGKILL')
      })
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

type Answer = Readonly<Record<string, unknown>>

/** One system under test: its client and the revision its store had before the script. */
type Target = { client: Etcd3; base: number }

function kv(target: Target, item: IKeyValue): Answer {
  return {
    key: item.key.toString(),
    value: item.value.toString(),
    // 0 is "none" (a delete event's), not a revision: it stays 0.
    create_revision: item.create_revision === '0' ? 0 : Number(item.create_revision) - target.base,
    mod_revision: Number(item.mod_revision) - target.base,
    version: item.version,
    lease: item.lease,
  }
}

function headerRevision(target: Target, header: { revision: string }): number {
  return Number(header.revision) - target.base
}

/** An error as the client sees it: the gRPC code's class and the etcd message. */
function failure(error: unknown): Answer {
  return { error: (error as Error).constructor.name, message: (error as Error).message.replace(/^\w+: /, '') }
}

type Step = Readonly<{ name: string; run: (target: Target) => Promise<Answer> }>

const range = (name: string, build: (client: Etcd3) => { exec: () => Promise<{ header: { revision: string }; kvs: IKeyValue[]; more: boolean; count: string }> }): Step => ({
  name,
  run: async (target) => {
    try {
      const answer = await build(target.client).exec()
      return { revision: headerRevision(target, answer.header), kvs: answer.kvs.map((item) => kv(target, item)), more: answer.more, count: answer.count }
    } catch (error) {
      return failure(error)
    }
  },
})

const write = (name: string, run: (client: Etcd3) => Promise<{ header: { revision: string }; deleted?: string }>): Step => ({
  name,
  run: async (target) => {
    try {
      const answer = await run(target.client)
      return { revision: headerRevision(target, answer.header), ...(answer.deleted === undefined ? {} : { deleted: answer.deleted }) }
    } catch (error) {
      return failure(error)
    }
  },
})

/** keys_only and count_only as the builder's keys() and count() set them, with the whole answer kept. */
function withFields<B extends object>(builder: B, fields: Readonly<Record<string, boolean>>): B {
  Object.assign((builder as unknown as { request: object }).request, fields)
  return builder
}

/** A bidirectional stream through the etcd3 client's own RPC layer: requests in, every response out. */
async function streamOf(client: Etcd3, kind: 'watch' | 'keepalive'): Promise<{ write: (request: object) => void; next: () => Promise<Record<string, any>>; end: () => void }> {
  const inner = client as unknown as { watchClient: { watch: () => Promise<any> }; leaseClient: { leaseKeepAlive: () => Promise<any> } }
  const stream = kind === 'watch' ? await inner.watchClient.watch() : await inner.leaseClient.leaseKeepAlive()
  const received: Record<string, any>[] = []
  const waiters: Array<() => void> = []
  stream.on('data', (response: Record<string, any>) => {
    received.push(response)
    waiters.splice(0).forEach((wake) => wake())
  })
  stream.on('error', () => {})
  return {
    write: (request) => stream.write(request),
    next: async () => {
      const deadline = Date.now() + 10_000
      while (received.length === 0) {
        if (Date.now() > deadline) throw new Error('no stream response in time')
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 100)
        })
      }
      return received.shift()!
    },
    end: () => stream.cancel?.() ?? stream.end(),
  }
}

/** A watch response, normalized: revisions as offsets, events as their fields. */
function watchAnswer(target: Target, response: Record<string, any>): Answer {
  const kvOf = (item: IKeyValue | null) => (item === null ? null : kv(target, item))
  return {
    watch_id: response.watch_id,
    created: response.created,
    canceled: response.canceled,
    compact_revision: response.compact_revision === '0' ? 0 : Number(response.compact_revision) - target.base,
    cancel_reason: response.cancel_reason,
    events: (response.events as Array<{ type: string; kv: IKeyValue; prev_kv: IKeyValue | null }>).map((event) => ({ type: event.type, kv: kvOf(event.kv), prev_kv: kvOf(event.prev_kv ?? null) })),
  }
}

/**
 * Watch, Lease and Compact: each step's answers as one record, revisions as offsets. They run
 * after the KV script's writes, while both stores' revisions still agree (as offsets).
 */
function watchLeaseCompactSteps(): Step[] {
  const at = (target: Target, offset: number) => String(target.base + offset)
  return [
    {
      name: 'watch a prefix from a past revision, with prev_kv',
      run: async (target) => {
        const stream = await streamOf(target.client, 'watch')
        stream.write({ create_request: { key: Buffer.from('c/'), range_end: Buffer.from('c0'), start_revision: at(target, 4), prev_kv: true } })
        const created = await stream.next()
        const batch = await stream.next()
        stream.write({ create_request: { key: Buffer.from('a'), filters: ['NOPUT'] } })
        const second = await stream.next()
        stream.write({ progress_request: {} })
        const progress = await stream.next()
        await target.client.put('c/live').value('now')
        const live = await stream.next()
        stream.write({ cancel_request: { watch_id: created.watch_id } })
        const canceled = await stream.next()
        stream.write({ create_request: { key: Buffer.from('x'), watch_id: second.watch_id } })
        const duplicate = await stream.next()
        stream.end()
        return {
          created: watchAnswer(target, created),
          created_at: headerRevision(target, created.header),
          batch: { ...watchAnswer(target, batch), at: headerRevision(target, batch.header) },
          second: watchAnswer(target, second),
          progress: { ...watchAnswer(target, progress), at: headerRevision(target, progress.header) },
          live: { ...watchAnswer(target, live), at: headerRevision(target, live.header) },
          canceled: watchAnswer(target, canceled),
          duplicate: watchAnswer(target, duplicate),
        }
      },
    },
    {
      name: 'leases: grant with an ID, again, put with it, time to live, list, keepalive, revoke',
      run: async (target) => {
        const client = target.client
        const attempt = async (run: () => Promise<unknown>) => run().then((answer) => answer, failure)
        const granted = (await client.leaseClient.leaseGrant({ TTL: 30, ID: 4242 })) as { ID: string; TTL: string; header: { revision: string } }
        const again = await attempt(() => client.leaseClient.leaseGrant({ TTL: 30, ID: 4242 }))
        await client.put('leased/a').value('1').lease('4242').exec()
        const ttl = await client.leaseClient.leaseTimeToLive({ ID: '4242', keys: true })
        const listed = await client.leaseClient.leaseLeases({})
        const keepalive = await streamOf(client, 'keepalive')
        keepalive.write({ ID: '4242' })
        keepalive.write({ ID: '31337' })
        const [kept, gone] = [await keepalive.next(), await keepalive.next()]
        keepalive.end()
        const revoked = await client.leaseClient.leaseRevoke({ ID: '4242' })
        const revokedAgain = await attempt(() => client.leaseClient.leaseRevoke({ ID: '4242' }))
        const after = await client.leaseClient.leaseTimeToLive({ ID: '4242' })
        const key = await client.get('leased/a').exec()
        return {
          granted: { ID: granted.ID, TTL: granted.TTL, at: headerRevision(target, granted.header) },
          again,
          ttl: { ID: ttl.ID, grantedTTL: ttl.grantedTTL, remainingAtMostGranted: Number(ttl.TTL) <= 30 && Number(ttl.TTL) >= 28, keys: ttl.keys.map(String) },
          listed: listed.leases,
          kept: { ID: kept.ID, TTL: kept.TTL },
          gone: { ID: gone.ID, TTL: gone.TTL },
          revoked: headerRevision(target, revoked.header),
          revokedAgain,
          after: { ID: after.ID, TTL: after.TTL, grantedTTL: after.grantedTTL, keys: after.keys },
          keyAfterRevoke: key.kvs.length,
        }
      },
    },
    {
      name: 'compact, and reads and watches around it',
      run: async (target) => {
        const client = target.client
        const attempt = async (run: () => Promise<unknown>) => run().then(() => 'ok', failure)
        const before = await client.getAll().revision(Number(at(target, 3))).keys()
        const future = await attempt(() => client.kv.compact({ revision: at(target, 1000) }))
        const compacted = await client.kv.compact({ revision: at(target, 5), physical: true })
        const atFloor = await client.getAll().revision(Number(at(target, 5))).keys()
        const below = await attempt(() => client.getAll().revision(Number(at(target, 4))).keys())
        const again = await attempt(() => client.kv.compact({ revision: at(target, 5) }))
        const stream = await streamOf(client, 'watch')
        stream.write({ create_request: { key: Buffer.from('a'), start_revision: at(target, 2) } })
        const [created, canceled] = [await stream.next(), await stream.next()]
        stream.end()
        return { before, future, compacted: headerRevision(target, compacted.header), atFloor, below, again, created: watchAnswer(target, created), canceled: watchAnswer(target, canceled), canceledAt: Number(canceled.header.revision) }
      },
    },
  ]
}

/** The script: writes and reads over keys chosen so prefixes, intervals and from-key differ. */
const script: readonly Step[] = [
  write('put a', (client) => client.put('a').value('1').exec()),
  write('put b', (client) => client.put('b').value('2').exec()),
  write('put a again', (client) => client.put('a').value('3').exec()),
  write('put c/x', (client) => client.put('c/x').value('4').exec()),
  write('put c/y', (client) => client.put('c/y').value('5').exec()),
  write('put c0', (client) => client.put('c0').value('6').exec()),
  write('put d with a non-ASCII key', (client) => client.put('d/\u00e9\u{1F600}').value('7').exec()),
  range('get a', (client) => client.get('a')),
  range('get a missing key', (client) => client.get('missing')),
  range('prefix c/', (client) => client.getAll().prefix('c/')),
  range('prefix d/', (client) => client.getAll().prefix('d/')),
  range('interval [a, c/y)', (client) => client.getAll().inRange({ start: 'a', end: 'c/y' })),
  range('from key b', (client) => client.getAll().inRange({ start: 'b', end: '\0' })),
  range('everything', (client) => client.getAll()),
  range('limit 2 of everything', (client) => client.getAll().limit(2)),
  range('keys only under c', (client) => withFields(client.getAll().prefix('c'), { keys_only: true })),
  range('count only under c', (client) => withFields(client.getAll().prefix('c'), { count_only: true })),
  range('sort by create, descending', (client) => client.getAll().sort('Create', 'Descend')),
  range('sort by version, descending, limit 1', (client) => client.getAll().sort('Version', 'Descend').limit(1)),
  range('sort by value, ascending', (client) => client.getAll().prefix('c').sort('Value', 'Ascend')),
  range('sort by key, descending', (client) => client.getAll().sort('Key', 'Descend')),
  range('serializable get', (client) => client.get('b').serializable(true)),
  range('an empty interval', (client) => client.getAll().inRange({ start: 'c', end: 'b' })),
  write('delete c/x', (client) => client.delete().key('c/x').exec()),
  range('prefix c/ after the delete', (client) => client.getAll().prefix('c/')),
  write('put c/x again: a new creation', (client) => client.put('c/x').value('8').exec()),
  range('c/x recreated', (client) => client.get('c/x')),
  write('put with an empty key', (client) => client.put('').value('x').exec()),
  range('get with an empty key', (client) => client.get('')),
  range('a future revision', (client) => client.get('a').revision(1000)),
  write('put with a lease that does not exist', (client) => client.put('leased').value('x').lease('12345').exec()),
  range('a txn: compares pick the branch', (client) => ({ exec: async () => {
    const ran = await client.if('a', 'Value', '==', '3').and('b', 'Version', '==', 1).then(client.put('t').value('ran'), client.get('a')).else(client.put('t').value('else')).commit()
    const got = ran.responses[1]?.response_range
    return { header: ran.header, kvs: got?.kvs ?? [], more: ran.succeeded, count: got?.count ?? 'none' }
  } })),
  range('a txn whose compare fails', (client) => ({ exec: async () => {
    const ran = await client.if('a', 'Mod', '>', 1000).then(client.put('t').value('no')).else(client.get('t'), client.delete().key('b')).commit()
    return { header: ran.header, kvs: ran.responses[0]?.response_range?.kvs ?? [], more: ran.succeeded, count: ran.responses[1]?.response_delete_range?.deleted ?? 'none' }
  } })),
  write('put with prev_kv', (client) => client.put('c0').value('9').getPrevious().then((previous) => ({ header: previous.header, deleted: `${previous.value?.toString()}@${previous.version}` }))),
  write('delete a prefix', (client) => client.delete().prefix('c/').exec()),
  range('after the prefix delete', (client) => client.getAll()),
  write('a txn writing a key twice', (client) => client.if('a', 'Version', '>', 0).then(client.put('z').value('1'), client.put('z').value('2')).commit()),
  ...watchLeaseCompactSteps(),
  // Last: from here on the two stores' revisions differ by one.
  write('delete a missing key', (client) => client.delete().key('never-written').exec()),
]

/**
 * Steps whose answers differ on purpose, the fields that differ, and why. The test checks that
 * they still differ (an entry that no longer does is to be removed) and that the rest agrees.
 */
const knownDifferences: Readonly<Record<string, Readonly<{ fields: readonly string[]; why: string }>>> = {
  'watch a prefix from a past revision, with prev_kv': { fields: ['created_at'], why: 'a created response says the revision the watch has sent everything through (the start less one), not the store\'s, so that a client resuming after it (the etcd3 client does) misses none of the catch-up events; README, Watch' },
  'delete a missing key': { fields: ['revision'], why: 'paxos-kv counts every applied delete as a write (api.md: every delete increments the revision); etcd does not bump it when nothing was deleted' },
}

describe.runIf(haveEtcd())('the same KV, Watch, Lease and Compact script against etcd 3.4 and paxos-kv', () => {
  let etcd: Awaited<ReturnType<typeof startEtcd>>
  let cluster: TestCluster
  const clients: Etcd3[] = []
  beforeAll(async () => {
    ;[etcd, cluster] = await Promise.all([startEtcd(), TestCluster.start(3, [], { etcd: true })])
  })
  afterAll(async () => {
    for (const client of clients) client.close()
    await Promise.all([etcd?.stop(), cluster?.stop()])
  })

  async function target(hosts: string[]): Promise<Target> {
    const client = new Etcd3({ hosts })
    clients.push(client)
    const before = await client.get('never-written').exec()
    return { client, base: Number(before.header.revision) }
  }

  it('answers every step alike, field by field', async () => {
    const reference = await target([etcd.endpoint])
    const ours = await target(cluster.ids.map((id) => cluster.etcdEndpoint(id)))
    for (const step of script) {
      const expected = await step.run(reference)
      const actual = await step.run(ours)
      const known = knownDifferences[step.name]
      if (known !== undefined) {
        for (const field of known.fields) expect(actual[field], `${step.name}: ${field} (${known.why})`).not.toEqual(expected[field])
        const strip = (answer: Answer) => Object.fromEntries(Object.entries(answer).filter(([name]) => !known.fields.includes(name)))
        expect(strip(actual), step.name).toEqual(strip(expected))
        continue
      }
      expect(actual, step.name).toEqual(expected)
    }
  })
})
