/**
 * paxos-kv put | get | del | status: a thin client over the HTTP API. Prints the value or the
 * JSON result; an error body goes to stderr with exit 1.
 * @module
 */
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { explainReceipt } from './explain.js'

type ClientCommand = 'put' | 'get' | 'del' | 'status'

const positionalCount: Record<ClientCommand, number> = { put: 2, get: 1, del: 1, status: 0 }

function explanation(headers: Record<string, string | string[] | undefined>, body: Buffer): string {
  const single: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(headers)) single[name] = Array.isArray(value) ? value[0] : value
  let version: number | null = null
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { version?: unknown }
    if (typeof parsed.version === 'number') version = parsed.version
  } catch {
    // not JSON: tell the story without the version
  }
  return explainReceipt(single, version).map((line) => `  ${line}\n`).join('')
}

export async function runClient(command: ClientCommand, argv: readonly string[]): Promise<number> {
  let parsed: { values: { url: string; cas?: string; stale?: boolean; explain?: boolean }; positionals: string[] }
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: { url: { type: 'string', default: 'http://127.0.0.1:7001' }, cas: { type: 'string' }, stale: { type: 'boolean' }, explain: { type: 'boolean' } },
    }) as typeof parsed
  } catch (error) {
    process.stderr.write(`paxos-kv ${command}: ${(error as Error).message}\n`)
    return 2
  }
  const { values, positionals } = parsed
  if (positionals.length !== positionalCount[command]) {
    process.stderr.write(`paxos-kv ${command}: expected ${positionalCount[command]} argument(s), got ${positionals.length}\n`)
    return 2
  }
  if (!URL.canParse(values.url) || !/^https?:$/.test(new URL(values.url).protocol)) {
    process.stderr.write(`paxos-kv ${command}: --url must be an http(s) URL, got ${JSON.stringify(values.url)}\n`)
    return 2
  }
  if (values.explain === true && command !== 'put' && command !== 'del') {
    process.stderr.write(`paxos-kv ${command}: --explain is for writes (put, del)\n`)
    return 2
  }
  const base = values.url.replace(/\/$/, '')
  const key = encodeURIComponent(positionals[0] ?? '').replace(/%2F/g, '/')
  const cas = values.cas === undefined ? '' : `?cas=${encodeURIComponent(values.cas)}`
  const target = {
    put: { method: 'PUT' as const, path: `/v1/kv/${key}${cas}`, body: positionals[1] ?? '' },
    get: { method: 'GET' as const, path: `/v1/kv/${key}${values.stale === true ? '?consistency=stale' : ''}`, body: null },
    del: { method: 'DELETE' as const, path: `/v1/kv/${key}${cas}`, body: null },
    status: { method: 'GET' as const, path: '/v1/status', body: null },
  }[command]
  try {
    const response = await request(`${base}${target.path}`, { method: target.method, body: target.body })
    // Bytes, not text: a value may be any binary, and decoding it as UTF-8 would change it.
    const body = Buffer.from(await response.body.arrayBuffer())
    if (response.statusCode >= 400) {
      process.stderr.write(`${body.toString('utf8')}\n`)
      return 1
    }
    process.stdout.write(command === 'get' ? body : `${body.toString('utf8')}\n`)
    if (values.explain === true) process.stdout.write(explanation(response.headers, body))
    return 0
  } catch (error) {
    process.stderr.write(`paxos-kv ${command}: cannot reach ${base}: ${(error as Error).message}\n`)
    return 1
  }
}
