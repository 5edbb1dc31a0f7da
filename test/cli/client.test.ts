/**
 * Goal: the client subcommands send the documented HTTP requests, print the value or the JSON
 * result, put an error body on stderr with exit 1, explain a refused connection with exit 1,
 * and refuse bad usage with exit 2; `main` dispatches and answers unknown commands with usage.
 * Method: runClient/main in-process against a recording node:http server; stdout and stderr
 * captured by spying on their write methods.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { runClient } from '../../src/cli/client.js'
import { main } from '../../src/cli/main.js'

type Seen = { method: string; url: string; body: string }
const seen: Seen[] = []
let reply: { status: number; body: string; headers?: Record<string, string> } = { status: 200, body: '' }
let binaryReply: Buffer | null = null
let server: Server
let url: string

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', body })
      response.writeHead(reply.status, reply.headers ?? { 'content-type': 'application/json' })
      response.end(binaryReply ?? reply.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
afterEach(() => {
  seen.length = 0
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

describe('main', () => {
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
