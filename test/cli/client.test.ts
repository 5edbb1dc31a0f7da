/**
 * Goal: the client subcommands send the documented HTTP requests, print the value or the JSON
 * result, put an error body on stderr with exit 1, explain a refused connection with exit 1,
 * and refuse bad usage with exit 2; `main` dispatches and answers unknown commands with usage.
 * Method: runClient/main in-process against a recording node:http server; stdout and stderr
 * captured by spying on their write methods.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { runClient } from '../../src/cli/client.js'
import { main } from '../../src/cli/main.js'

type Seen = { method: string; url: string; body: string }
const seen: Seen[] = []
type Reply = { status: number; body: string; headers?: Record<string, string> }
let reply: Reply = { status: 200, body: '' }
/** When set, the answer for each request URL (paging tests). */
let replyFor: ((url: string) => Reply) | null = null
let binaryReply: Buffer | null = null
let server: Server
let url: string

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', body })
      const answer = replyFor?.(request.url ?? '') ?? reply
      response.writeHead(answer.status, answer.headers ?? { 'content-type': 'application/json' })
      response.end(binaryReply ?? answer.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
afterEach(() => {
  seen.length = 0
  replyFor = null
  vi.restoreAllMocks()
})

let stdoutBytes: Buffer[] = []
async function capture(run: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  stdoutBytes = []
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdoutBytes.push(Buffer.from(chunk as string | Uint8Array))
    stdout += String(chunk)
    return true
  })
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true))
  const code = await run()
  vi.restoreAllMocks()
  return { code, stdout, stderr }
}

describe('paxos-kv put/get/del/status', () => {
  it('put sends the value as the body, the key as the path (slashes kept) and --cas as a query', async () => {
    reply = { status: 200, body: '{"version":4}' }
    const result = await capture(() => runClient('put', ['a/b c', 'hello world', '--cas', '3', '--url', `${url}/`]))
    expect(seen).toEqual([{ method: 'PUT', url: '/v1/kv/a/b%20c?cas=3', body: 'hello world' }])
    expect(result).toEqual({ code: 0, stdout: '{"version":4}\n', stderr: '' })
  })

  it('put --explain tells the receipt as a story after the JSON; a partial receipt says what is missing', async () => {
    reply = { status: 200, body: '{"version":4}', headers: {
      'content-type': 'application/json', 'x-paxos-slot': '17', 'x-paxos-ballot': '3.2', 'x-paxos-leader': '2',
      'x-paxos-quorum': '2,3', 'x-paxos-commit-ms': '2.5', 'x-paxos-fsync-ms': '1.125',
    } }
    const full = await capture(() => runClient('put', ['k', 'v', '--explain', '--url', url]))
    expect(full.code).toBe(0)
    expect(full.stdout.split('\n')).toEqual([
      '{"version":4}',
      '  slot 17: leader node 2 sent accept(ballot 3.2) to every acceptor; it won Phase 1 in round 3, so no prepare was needed for this write',
      "  the leader's own acceptor wrote the value to its log and fsynced it in 1.125 ms",
      '  accepted by nodes 2 and 3: a majority, so the value is chosen and can never change',
      '  chosen 2.5 ms after the leader proposed it',
      '  applied in slot order as version 4, then acknowledged',
      '',
    ])
    reply = { status: 200, body: '{"version":5,"deleted":true}', headers: { 'content-type': 'application/json', 'x-paxos-slot': '18' } }
    const partial = await capture(() => runClient('del', ['k', '--explain', '--url', url]))
    expect(partial.stdout).toContain('slot 18: the write was chosen under an earlier leader')
    expect(partial.stdout).toContain('as version 5')
    expect((await capture(() => runClient('get', ['k', '--explain', '--url', url]))).code).toBe(2)
  })

  it('get prints the raw value only; --stale asks for a stale read', async () => {
    reply = { status: 200, body: 'raw\nvalue', headers: { 'content-type': 'application/octet-stream', 'x-version': '9' } }
    const result = await capture(() => runClient('get', ['k', '--stale', '--url', url]))
    expect(seen.map((request) => `${request.method} ${request.url}`)).toEqual(['GET /v1/kv/k?consistency=stale'])
    expect(result.stdout).toBe('raw\nvalue')
    expect(result.code).toBe(0)
  })

  it('get writes a binary value byte for byte', async () => {
    const value = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a])
    reply = { status: 200, body: '', headers: { 'content-type': 'application/octet-stream' } }
    binaryReply = value
    const result = await capture(() => runClient('get', ['bin', '--url', url]))
    binaryReply = null
    expect(result.code).toBe(0)
    expect(Buffer.concat(stdoutBytes)).toEqual(value)
  })

  it('del and status use the documented routes', async () => {
    reply = { status: 200, body: '{"version":5,"deleted":true}' }
    expect((await capture(() => runClient('del', ['k', '--cas', '4', '--url', url]))).code).toBe(0)
    expect((await capture(() => runClient('status', ['--url', url]))).code).toBe(0)
    expect(seen.map((request) => `${request.method} ${request.url}`)).toEqual(['DELETE /v1/kv/k?cas=4', 'GET /v1/status'])
  })

  it('an error answer prints its body on stderr and exits 1', async () => {
    reply = { status: 409, body: '{"error":"cas_mismatch","message":"version is 2","version":2}' }
    const result = await capture(() => runClient('put', ['k', 'v', '--cas', '1', '--url', url]))
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(JSON.parse(result.stderr)).toMatchObject({ error: 'cas_mismatch', version: 2 })
  })

  it('a refused connection is explained in one line, exit 1', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const result = await capture(() => runClient('get', ['k', '--url', `http://127.0.0.1:${port}`]))
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(new RegExp(`^paxos-kv get: cannot reach http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`))
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  it.each([
    ['get without a key', 'get', []],
    ['put without a value', 'put', ['k']],
    ['status with an argument', 'status', ['extra']],
    ['an unknown flag', 'get', ['k', '--bogus']],
    ['a --url that is not a URL', 'get', ['k', '--url', 'localhost:7001']],
    ['a --url that is not http', 'status', ['--url', 'ftp://127.0.0.1:7001']],
  ] as const)('bad usage (%s) exits 2 with one line and sends nothing', async (_label, command, argv) => {
    const result = await capture(() => runClient(command, ['--url', url, ...argv])) // a later --url wins
    expect(result.code).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(seen).toEqual([])
  })
})

/** A port nothing listens on: connections to it are refused. */
async function closedPort(): Promise<number> {
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const port = (closed.address() as AddressInfo).port
  await new Promise<void>((resolve) => closed.close(() => resolve()))
  return port
}

describe('paxos-kv prefixes, txn, input from files and stdin, several nodes', () => {
  const directory = mkdtempSync(join(tmpdir(), 'paxos-kv-cli-'))
  afterAll(() => rmSync(directory, { recursive: true, force: true }))

  it('get --prefix pages through after= until a page says no more, one JSON item per line', async () => {
    const item = (key: string) => ({ key, version: 1, createRevision: 1, writes: 1, lease: null, value: 'eA==' })
    replyFor = (requestUrl) => ({
      status: 200,
      body: JSON.stringify(requestUrl.includes('after=') ? { items: [item('p/3')], more: false, revision: 3 } : { items: [item('p/1'), item('p/2')], more: true, revision: 3 }),
    })
    const result = await capture(() => runClient('get', ['--prefix', 'p/', '--url', url]))
    expect(result.code).toBe(0)
    expect(seen.map((request) => request.url)).toEqual(['/v1/kv?prefix=p%2F&limit=100', '/v1/kv?prefix=p%2F&limit=100&after=p%2F2'])
    expect(result.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { key: string }).key)).toEqual(['p/1', 'p/2', 'p/3'])
  })

  it('del --prefix deletes by prefix; txn posts its JSON from --file or stdin', async () => {
    reply = { status: 200, body: '{"version":7,"deleted":2}' }
    expect((await capture(() => runClient('del', ['--prefix', 'app/', '--url', url]))).stdout).toBe('{"version":7,"deleted":2}\n')
    const txnFile = join(directory, 'txn.json')
    writeFileSync(txnFile, '{"success":[{"get":{"key":"k"}}]}')
    reply = { status: 200, body: '{"succeeded":true,"version":7,"results":[null]}' }
    expect((await capture(() => runClient('txn', ['--file', txnFile, '--url', url]))).code).toBe(0)
    expect((await capture(() => runClient('txn', ['--url', url], Readable.from([Buffer.from('{"compare":[]}')])))).code).toBe(0)
    expect(seen.map((request) => `${request.method} ${request.url} ${request.body}`)).toEqual([
      'DELETE /v1/kv?prefix=app%2F ', 'POST /v1/txn {"success":[{"get":{"key":"k"}}]}', 'POST /v1/txn {"compare":[]}',
    ])
  })

  it('put reads the value from --file or from stdin with -', async () => {
    reply = { status: 200, body: '{"version":1}' }
    const valueFile = join(directory, 'value.bin')
    writeFileSync(valueFile, 'from a file\n')
    expect((await capture(() => runClient('put', ['k', '--file', valueFile, '--url', url]))).code).toBe(0)
    expect((await capture(() => runClient('put', ['k', '-', '--url', url], Readable.from([Buffer.from('from '), Buffer.from('stdin')])))).code).toBe(0)
    expect(seen.map((request) => request.body)).toEqual(['from a file\n', 'from stdin'])
  })

  it('--url with several nodes: a node that refuses is skipped, for writes and reads; all down is one line, exit 1', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`
    reply = { status: 200, body: '{"version":2}' }
    expect((await capture(() => runClient('put', ['k', 'v', '--url', `${down},${url}`]))).code).toBe(0)
    expect(seen.map((request) => request.method)).toEqual(['PUT'])
    const other = `http://127.0.0.1:${await closedPort()}`
    const result = await capture(() => runClient('get', ['k', '--url', `${down},${other}`]))
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(down)
    expect(result.stderr).toContain(other)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  it.each([
    ['--prefix on put', 'put', ['k', 'v', '--prefix', 'p']],
    ['--cas with del --prefix', 'del', ['--prefix', 'p', '--cas', '1']],
    ['get with a key and --prefix', 'get', ['k', '--prefix', 'p']],
    ['put with --file and a value', 'put', ['k', 'v', '--file', '/dev/null']],
    ['a --file that does not exist', 'txn', ['--file', '/nonexistent/txn.json']],
    ['a --url list with a bad entry', 'status', ['--url', 'http://127.0.0.1:1,localhost:2']],
    ['txn with an argument', 'txn', ['extra']],
  ] as const)('bad usage (%s) exits 2 with one line and sends nothing', async (_label, command, argv) => {
    const result = await capture(() => runClient(command, ['--url', url, ...argv]))
    expect(result.code).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(seen).toEqual([])
  })

  it('lease grant, keepalive, revoke, show, and put --lease, on the documented routes', async () => {
    reply = { status: 200, body: '{"id":"12","ttlSeconds":5}' }
    for (const argv of [['grant', '5'], ['keepalive', '12'], ['revoke', '12'], ['show', '12']]) expect((await capture(() => runClient('lease', [...argv, '--url', url]))).code).toBe(0)
    expect((await capture(() => runClient('put', ['k', 'v', '--lease', '12', '--cas', '3', '--url', url]))).code).toBe(0)
    expect(seen.map((request) => `${request.method} ${request.url} ${request.body}`)).toEqual([
      'POST /v1/leases {"ttlSeconds":5}', 'POST /v1/leases/12/keepalive ', 'DELETE /v1/leases/12 ', 'GET /v1/leases/12 ', 'PUT /v1/kv/k?cas=3&lease=12 v',
    ])
    for (const argv of [['grant'], ['renew', '1'], ['grant', 'soon']]) expect((await capture(() => runClient('lease', [...argv, '--url', url]))).code).toBe(2)
  })

  it('a value on stdin past the value limit is a usage error, and nothing is sent', async () => {
    const huge = Readable.from([Buffer.alloc(1024 * 1024), Buffer.alloc(1)])
    const result = await capture(() => runClient('put', ['k', '-', '--url', url], huge))
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/stdin is larger than 1048576 bytes/)
    expect(seen).toEqual([])
  })
})

describe('main', () => {
  it('--version prints the package version', async () => {
    const result = await capture(() => main(['--version']))
    expect(result).toEqual({ code: 0, stdout: `paxos-kv ${(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version}\n`, stderr: '' })
  })

  it('an unknown command prints usage on stderr and exits 2', async () => {
    const result = await capture(() => main(['frobnicate']))
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/unknown command "frobnicate"/)
    expect(result.stderr).toMatch(/paxos-kv serve --id/)
  })

  it('no command is a usage error; help is not', async () => {
    expect((await capture(() => main([]))).code).toBe(2)
    const help = await capture(() => main(['--help']))
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/paxos-kv cluster/)
  })

  it('dispatches client commands', async () => {
    reply = { status: 200, body: '{"id":1}' }
    expect((await capture(() => main(['status', '--url', url]))).stdout).toBe('{"id":1}\n')
    expect(seen.map((request) => request.url)).toEqual(['/v1/status'])
  })
})
