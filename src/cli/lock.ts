/**
 * paxos-kv lock NAME [--ttl S] [--url URL,...] -- COMMAND...: runs COMMAND while holding a
 * distributed lock. The recipe (README): a lease; a create-if-absent txn that puts NAME on the
 * lease when NAME's createRevision is 0; else a watch on NAME, the holder ahead, from the
 * revision the txn read, until it is deleted, and try again. The lease is kept alive while the
 * command runs and revoked when it exits; if this process dies, the lease expires and the lock
 * passes on after at most the TTL (plus an election). Losing the lease while holding (a keepalive
 * answered 404) stops the command: exit 1.
 * @module
 */
import { spawn } from 'node:child_process'
import type { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import { request } from 'undici'

type Options = Readonly<{ urls: readonly string[]; name: string; ttlSeconds: number; command: readonly string[] }>

function parse(argv: readonly string[]): Options | string {
  const split = argv.indexOf('--')
  if (split < 0 || split === argv.length - 1) return 'expected NAME [--ttl S] [--url ...] -- COMMAND...'
  let parsed
  try {
    parsed = parseArgs({ args: [...argv.slice(0, split)], allowPositionals: true, strict: true, options: { url: { type: 'string', default: 'http://127.0.0.1:7001' }, ttl: { type: 'string', default: '10' } } })
  } catch (error) {
    return (error as Error).message
  }
  if (parsed.positionals.length !== 1) return `expected one lock NAME, got ${parsed.positionals.length}`
  const ttlSeconds = Number(parsed.values.ttl)
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 86_400) return `--ttl must be 1 to 86400 seconds, got ${JSON.stringify(parsed.values.ttl)}`
  const urls = parsed.values.url.split(',').map((url) => url.trim().replace(/\/$/, ''))
  if (urls.some((url) => !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))) return `--url must be http(s) URLs, comma-separated, got ${JSON.stringify(parsed.values.url)}`
  return { urls, name: parsed.positionals[0]!, ttlSeconds, command: argv.slice(split + 1) }
}

/** One JSON call to the first node of --url that answers; null when none did. */
async function call(urls: readonly string[], method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> } | null> {
  for (const url of urls) {
    try {
      const response = await request(`${url}${path}`, { method, body: body === undefined ? null : JSON.stringify(body), headers: { 'content-type': 'application/json' }, headersTimeout: 10_000, bodyTimeout: 10_000 })
      const text = await response.body.text()
      return { status: response.statusCode, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) }
    } catch {
      // down: the next node
    }
  }
  return null
}

/** Resolves once `name` is deleted at or after `fromRevision` (or the stream ends: check again). */
async function holderGone(urls: readonly string[], name: string, fromRevision: number): Promise<void> {
  for (const url of urls) {
    try {
      const query = new URLSearchParams({ key: name, fromRevision: String(fromRevision) })
      const response = await request(`${url}/v1/watch?${query}`, { method: 'GET' })
      if (response.statusCode !== 200) {
        await response.body.dump()
        return // compacted, or no leader: the caller tries the txn again
      }
      let buffered = ''
      for await (const chunk of response.body as Readable) {
        buffered += chunk.toString()
        if (buffered.includes('"type":"delete"')) {
          response.body.destroy()
          return
        }
      }
      return
    } catch {
      // down: the next node
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 500))
}

export async function runLock(argv: readonly string[]): Promise<number> {
  const options = parse(argv)
  if (typeof options === 'string') {
    process.stderr.write(`paxos-kv lock: ${options}\n`)
    return 2
  }
  const granted = await call(options.urls, 'POST', '/v1/leases', { ttlSeconds: options.ttlSeconds })
  if (granted?.status !== 200) {
    process.stderr.write(`paxos-kv lock: no lease could be granted: ${JSON.stringify(granted?.json ?? 'no node answered')}\n`)
    return 1
  }
  const lease = String(granted.json.id)
  let lost = false
  const keepalive = setInterval(() => {
    void call(options.urls, 'POST', `/v1/leases/${lease}/keepalive`).then((answer) => {
      if (answer?.status === 404) lost = true
    })
  }, Math.max(200, (options.ttlSeconds * 1000) / 3))
  const release = async () => {
    clearInterval(keepalive)
    await call(options.urls, 'DELETE', `/v1/leases/${lease}`)
  }
  try {
    const value = Buffer.from(`${process.pid}@${lease}`).toString('base64')
    for (;;) {
      const answer = await call(options.urls, 'POST', '/v1/txn', {
        compare: [{ key: options.name, target: 'createRevision', op: '=', value: 0 }],
        success: [{ put: { key: options.name, value, lease } }],
        failure: [{ get: { key: options.name } }],
      })
      if (answer?.status === 200 && answer.json.succeeded === true) break
      if (lost) throw new Error('the lease ended while waiting')
      const revision = typeof answer?.json.version === 'number' ? answer.json.version : 0
      await holderGone(options.urls, options.name, revision + 1)
    }
  } catch (error) {
    await release()
    process.stderr.write(`paxos-kv lock: ${(error as Error).message}\n`)
    return 1
  }
  const child = spawn(options.command[0]!, options.command.slice(1), { stdio: 'inherit' })
  const watchdog = setInterval(() => {
    if (lost) child.kill('SIGTERM')
  }, 100)
  const forward = (signal: NodeJS.Signals) => child.kill(signal)
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  const code = await new Promise<number>((resolve) => {
    child.once('error', () => resolve(127))
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal === null ? 1 : 128)))
  })
  clearInterval(watchdog)
  process.off('SIGINT', forward)
  process.off('SIGTERM', forward)
  await release()
  if (lost) {
    process.stderr.write('paxos-kv lock: the lease was lost while the command ran; it was stopped\n')
    return 1
  }
  return code
}
