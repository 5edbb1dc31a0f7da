/**
 * paxos-kv put | get | del | status | txn: a thin client over the HTTP API. Prints the value or
 * the JSON result; an error body goes to stderr with exit 1. `--url` may list several nodes
 * (comma-separated): the next one is tried when one is down (see failover.ts).
 * @module
 */
import type { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import { limits } from '../core/limits.js'
import { explainReceipt } from './explain.js'
import { sendToFirst, Unreachable, type Answer, type Attempt } from './failover.js'
import { InputError, readInput } from './input.js'

export type ClientCommand = 'put' | 'get' | 'del' | 'status' | 'txn' | 'lease' | 'member'

type Values = { url: string; cas?: string; stale?: boolean; explain?: boolean; prefix?: string; file?: string; lease?: string; voter?: boolean }

/** A usage error: one line on stderr, exit 2, nothing sent. */
class Usage extends Error {
  override name = 'Usage'
}

function explanation(headers: Answer['headers'], body: Buffer): string {
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

function parseUrls(text: string): string[] {
  const urls = text.split(',').map((url) => url.trim().replace(/\/$/, ''))
  for (const url of urls) {
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new Usage(`--url must be http(s) URLs, comma-separated, got ${JSON.stringify(url)}`)
  }
  return urls
}

/** Items per page of get --prefix: small pages keep each answer small when values are large. */
const listPageItems = 100

const keyPath = (key: string) => encodeURIComponent(key).replace(/%2F/g, '/')

function expectPositionals(positionals: readonly string[], count: number): void {
  if (positionals.length !== count) throw new Usage(`expected ${count} argument(s), got ${positionals.length}`)
}

/** The one request a command sends (get --prefix pages on from it). */
async function attemptOf(command: ClientCommand, values: Values, positionals: readonly string[], stdin: Readable): Promise<Attempt> {
  if (values.explain === true && command !== 'put' && command !== 'del') throw new Usage('--explain is for writes (put, del)')
  if (values.prefix !== undefined && command !== 'get' && command !== 'del') throw new Usage('--prefix is for get and del')
  if (values.file !== undefined && command !== 'put' && command !== 'txn') throw new Usage('--file is for put and txn')
  if (values.lease !== undefined && command !== 'put') throw new Usage('--lease is for put')
  if (values.voter === true && command !== 'member') throw new Usage('--voter is for member add')
  const query = new URLSearchParams({ ...(values.cas === undefined ? {} : { cas: values.cas }), ...(values.lease === undefined ? {} : { lease: values.lease }) }).toString()
  const cas = query === '' ? '' : `?${query}`
  switch (command) {
    case 'put': {
      const fromInput = values.file !== undefined || positionals[1] === '-'
      expectPositionals(positionals, values.file !== undefined ? 1 : 2)
      const body = fromInput ? await readInput(values.file ?? '-', limits.valueBytesMax, stdin) : positionals[1]!
      return { method: 'PUT', path: `/v1/kv/${keyPath(positionals[0]!)}${cas}`, body }
    }
    case 'get': {
      const stale = values.stale === true ? 'consistency=stale' : ''
      if (values.prefix !== undefined) {
        expectPositionals(positionals, 0)
        return { method: 'GET', path: `/v1/kv?prefix=${encodeURIComponent(values.prefix)}&limit=${listPageItems}${stale === '' ? '' : `&${stale}`}`, body: null }
      }
      expectPositionals(positionals, 1)
      return { method: 'GET', path: `/v1/kv/${keyPath(positionals[0]!)}${stale === '' ? '' : `?${stale}`}`, body: null }
    }
    case 'del':
      if (values.prefix !== undefined) {
        expectPositionals(positionals, 0)
        if (values.cas !== undefined) throw new Usage('--cas is for one key, not a --prefix')
        return { method: 'DELETE', path: `/v1/kv?prefix=${encodeURIComponent(values.prefix)}`, body: null }
      }
      expectPositionals(positionals, 1)
      return { method: 'DELETE', path: `/v1/kv/${keyPath(positionals[0]!)}${cas}`, body: null }
    case 'txn':
      expectPositionals(positionals, 0)
      return { method: 'POST', path: '/v1/txn', body: await readInput(values.file ?? '-', limits.txnBodyBytesMax, stdin), headers: { 'content-type': 'application/json' } }
    case 'status':
      expectPositionals(positionals, 0)
      return { method: 'GET', path: '/v1/status', body: null }
    case 'lease':
      return leaseAttempt(positionals)
    case 'member':
      return memberAttempt(positionals, values.voter === true)
  }
}

/** member list | add ID URL [--voter] | promote ID | remove ID. */
function memberAttempt(positionals: readonly string[], voter: boolean): Attempt {
  const [action, id, url] = positionals
  if (voter && action !== 'add') throw new Usage('--voter is for member add')
  if (action === 'list') {
    expectPositionals(positionals, 1)
    return { method: 'GET', path: '/v1/members', body: null }
  }
  if (action !== 'add' && action !== 'promote' && action !== 'remove') throw new Usage(`member: expected list, add, promote or remove, got ${JSON.stringify(action)}`)
  expectPositionals(positionals, action === 'add' ? 3 : 2)
  if (!/^\d{1,3}$/.test(id!) || Number(id) < 1 || Number(id) > limits.nodesMax) throw new Usage(`member ${action}: a member id is 1 to ${limits.nodesMax}, got ${JSON.stringify(id)}`)
  switch (action) {
    case 'add':
      if (!URL.canParse(url!) || !/^https?:$/.test(new URL(url!).protocol)) throw new Usage(`member add: expected the new member's http(s) URL, got ${JSON.stringify(url)}`)
      return { method: 'POST', path: '/v1/members', body: JSON.stringify({ id: Number(id), url, learner: !voter }), headers: { 'content-type': 'application/json' } }
    case 'promote':
      return { method: 'POST', path: `/v1/members/${id}/promote`, body: null }
    case 'remove':
      return { method: 'DELETE', path: `/v1/members/${id}`, body: null }
  }
}

/** lease grant TTL | keepalive ID | revoke ID | show ID. */
function leaseAttempt(positionals: readonly string[]): Attempt {
  const [action, argument] = positionals
  expectPositionals(positionals, 2)
  if (!/^\d{1,19}$/.test(argument!)) throw new Usage(`lease ${action}: expected a number, got ${JSON.stringify(argument)}`)
  switch (action) {
    case 'grant':
      return { method: 'POST', path: '/v1/leases', body: JSON.stringify({ ttlSeconds: Number(argument) }), headers: { 'content-type': 'application/json' } }
    case 'keepalive':
      return { method: 'POST', path: `/v1/leases/${argument}/keepalive`, body: null }
    case 'revoke':
      return { method: 'DELETE', path: `/v1/leases/${argument}`, body: null }
    case 'show':
      return { method: 'GET', path: `/v1/leases/${argument}`, body: null }
    default:
      throw new Usage(`lease: expected grant, keepalive, revoke or show, got ${JSON.stringify(action)}`)
  }
}

type Page = { items: Array<{ key: string }>; more: boolean }

/** get --prefix: every page, resuming after the last key, one JSON item per line. */
async function listAll(urls: readonly string[], first: Attempt): Promise<number> {
  for (let attempt = first; ;) {
    const answer = await sendToFirst(urls, attempt)
    if (answer.status >= 400) return failed(answer)
    const page = JSON.parse(answer.body.toString('utf8')) as Page
    for (const item of page.items) process.stdout.write(`${JSON.stringify(item)}\n`)
    const last = page.items.at(-1)
    if (!page.more || last === undefined) return 0
    attempt = { ...first, path: `${first.path}&after=${encodeURIComponent(last.key)}` }
  }
}

function failed(answer: Answer): number {
  process.stderr.write(`${answer.body.toString('utf8')}\n`)
  return 1
}

/** `stdin` is where `-` and txn bodies are read from (a test hands in its own). */
export async function runClient(command: ClientCommand, argv: readonly string[], stdin: Readable = process.stdin): Promise<number> {
  let urls: string[]
  let attempt: Attempt
  let values: Values
  try {
    const parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:7001' }, cas: { type: 'string' }, stale: { type: 'boolean' }, explain: { type: 'boolean' },
        prefix: { type: 'string' }, file: { type: 'string' }, lease: { type: 'string' }, voter: { type: 'boolean' },
      },
    })
    values = parsed.values as Values
    urls = parseUrls(values.url)
    attempt = await attemptOf(command, values, parsed.positionals, stdin)
  } catch (error) {
    const usage = error instanceof Usage || error instanceof InputError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true
    if (!usage) throw error
    process.stderr.write(`paxos-kv ${command}: ${(error as Error).message}\n`)
    return 2
  }
  try {
    if (command === 'get' && values.prefix !== undefined) return await listAll(urls, attempt)
    const answer = await sendToFirst(urls, attempt)
    if (answer.status >= 400) return failed(answer)
    process.stdout.write(command === 'get' ? answer.body : `${answer.body.toString('utf8')}\n`)
    if (values.explain === true) process.stdout.write(explanation(answer.headers, answer.body))
    return 0
  } catch (error) {
    if (!(error instanceof Unreachable)) throw error
    process.stderr.write(`paxos-kv ${command}: ${error.message}\n`)
    return 1
  }
}
