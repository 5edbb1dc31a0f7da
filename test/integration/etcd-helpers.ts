/**
 * Shared by the etcd API's integration tests: Debian's etcdctl (package etcd-client), run
 * with the v3 API against a cluster's etcd endpoints.
 */
import { execFile, spawn, spawnSync } from 'node:child_process'
import { it } from 'vitest'

export const etcdctlPath = '/usr/bin/etcdctl'

/** Whether etcdctl is installed; CI installs it (.ci/run), so there a missing one fails. */
export function haveEtcdctl(): boolean {
  const found = spawnSync(etcdctlPath, ['version'], { env: { ...process.env, ETCDCTL_API: '3' } }).status === 0
  if (!found && process.env.CI !== undefined) throw new Error(`${etcdctlPath} is missing: .ci/run installs etcd-client`)
  if (!found) it.skip(`skipped: ${etcdctlPath} is missing (apt-get install etcd-client)`, () => {})
  return found
}

export type EtcdctlResult = Readonly<{ code: number; stdout: string; stderr: string }>

export function etcdctl(endpoints: string | readonly string[], args: readonly string[], input?: string): Promise<EtcdctlResult> {
  const list = typeof endpoints === 'string' ? endpoints : endpoints.join(',')
  return new Promise((resolve) => {
    const child = execFile(etcdctlPath, [`--endpoints=${list}`, '--command-timeout=15s', ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1
      resolve({ code, stdout, stderr })
    })
    if (input !== undefined) child.stdin?.end(input)
  })
}

/** `etcdctl ... -w json`, parsed; throws with etcdctl's stderr when it failed. */
export async function etcdctlJson<T>(endpoints: string | readonly string[], args: readonly string[]): Promise<T> {
  const result = await etcdctl(endpoints, [...args, '-w', 'json'])
  if (result.code !== 0) throw new Error(`etcdctl ${args.join(' ')} failed (${result.code}): ${result.stderr}`)
  return JSON.parse(result.stdout) as T
}

export function base64(text: string): string {
  return Buffer.from(text).toString('base64')
}

/** A long-running etcdctl (watch, lock, elect, lease keep-alive): its output as it comes, and a stop. */
export class EtcdctlProcess {
  readonly #child: ReturnType<typeof spawn>
  #stdout = ''
  #stderr = ''
  readonly exited: Promise<number | null>

  constructor(endpoints: string | readonly string[], args: readonly string[]) {
    const list = typeof endpoints === 'string' ? endpoints : endpoints.join(',')
    this.#child = spawn(etcdctlPath, [`--endpoints=${list}`, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'] })
    this.#child.stdout?.on('data', (chunk: Buffer) => (this.#stdout += chunk.toString()))
    this.#child.stderr?.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()))
    this.exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)))
  }

  get stdout(): string {
    return this.#stdout
  }

  get stderr(): string {
    return this.#stderr
  }

  /** Waits until stdout satisfies `condition` (or fails with what it printed so far). */
  async waitForOutput(condition: (stdout: string) => boolean, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    while (!condition(this.#stdout)) {
      if (Date.now() > deadline) throw new Error(`etcdctl printed ${JSON.stringify(this.#stdout)} (stderr ${JSON.stringify(this.#stderr)})`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return this.#stdout
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal)
    return this.exited
  }
}
