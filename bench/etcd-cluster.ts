/**
 * The etcd side of `--with-etcd`: a 3-member etcd 3.4 cluster (Debian's etcd-server) on free
 * ports of 127.0.0.1, fresh data dirs, fsync on (etcd's default; nothing here turns it off),
 * started next to the paxos-kv cluster so both run on the same machine in the same minutes.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { request } from 'undici'
import { z } from 'zod'
import { freePorts } from './free-ports.js'
import { readPeakRssMiB } from './local-cluster.js'

const missingEtcd = '--with-etcd needs etcd 3.4 on the PATH (Debian: apt-get install -y etcd-server)'

/** etcd's version line (`etcd Version: 3.4.23`), or a one-line error naming the package. */
export async function etcdVersion(): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('etcd', ['--version'])
    const match = /etcd Version: (\S+)/.exec(stdout)
    if (match === null) throw new Error(missingEtcd)
    return match[1]!
  } catch {
    throw new Error(missingEtcd)
  }
}

// The JSON gateway's answer to /v3/maintenance/status; uint64 ids come as strings.
const status = z.object({ header: z.object({ member_id: z.string() }), leader: z.string() })

type Member = { name: string; clientUrl: string; peerUrl: string; process: ChildProcess | null }

export class EtcdCluster {
  readonly #dataRoot: string
  readonly #members: Member[]

  private constructor(dataRoot: string, members: Member[]) {
    this.#dataRoot = dataRoot
    this.#members = members
  }

  static async start(size = 3): Promise<EtcdCluster> {
    const ports = await freePorts(2 * size)
    const members = Array.from({ length: size }, (_, index): Member => ({
      name: `e${index + 1}`,
      clientUrl: `http://127.0.0.1:${ports[2 * index]}`,
      peerUrl: `http://127.0.0.1:${ports[2 * index + 1]}`,
      process: null,
    }))
    const cluster = new EtcdCluster(mkdtempSync(join(tmpdir(), 'paxos-kv-bench-etcd-')), members)
    const initialCluster = members.map((member) => `${member.name}=${member.peerUrl}`).join(',')
    for (const member of members) {
      const log = openSync(join(cluster.#dataRoot, `${member.name}.log`), 'a')
      member.process = spawn('etcd', [
        '--name', member.name, '--data-dir', join(cluster.#dataRoot, member.name),
        '--listen-client-urls', member.clientUrl, '--advertise-client-urls', member.clientUrl,
        '--listen-peer-urls', member.peerUrl, '--initial-advertise-peer-urls', member.peerUrl,
        '--initial-cluster', initialCluster, '--initial-cluster-state', 'new',
        '--logger', 'zap', '--log-level', 'error',
      ], { stdio: ['ignore', log, log] })
      closeSync(log) // the child holds its own copy
    }
    return cluster
  }

  /** Polls every member until one reports itself leader; returns its client URL. */
  async waitForLeader(timeoutMs = 30_000): Promise<string> {
    const deadline = performance.now() + timeoutMs
    while (performance.now() < deadline) {
      for (const member of this.#members) {
        const answer = await memberStatus(member.clientUrl)
        if (answer !== null && answer.leader === answer.header.member_id) return member.clientUrl
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const logs = this.#members.map((member) => this.#logTail(member)).join('\n')
    throw new Error(`no etcd leader within ${timeoutMs} ms; member logs:\n${logs}`)
  }

  /** Peak resident set size (VmHWM) of each member, in MiB, as LocalCluster reports it. */
  peakRssMiB(): Record<string, number | null> {
    return Object.fromEntries(this.#members.map((member) => {
      const pid = member.process?.pid
      return [member.name, pid === undefined ? null : readPeakRssMiB(pid)]
    }))
  }

  stop(): void {
    for (const member of this.#members) {
      member.process?.kill('SIGKILL')
      member.process = null
    }
    rmSync(this.#dataRoot, { recursive: true, force: true })
  }

  #logTail(member: Member): string {
    try {
      const lines = readFileSync(join(this.#dataRoot, `${member.name}.log`), 'utf8').trim().split('\n')
      return `${member.name}: ${lines.slice(-3).join('\n  ')}`
    } catch {
      return `${member.name}: no log`
    }
  }
}

async function memberStatus(clientUrl: string): Promise<z.infer<typeof status> | null> {
  try {
    const response = await request(`${clientUrl}/v3/maintenance/status`, {
      method: 'POST', body: '{}', headersTimeout: 1000, bodyTimeout: 1000,
    })
    if (response.statusCode !== 200) {
      await response.body.dump()
      return null
    }
    return status.parse(await response.body.json())
  } catch {
    return null
  }
}
