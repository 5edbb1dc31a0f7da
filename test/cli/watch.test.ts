/**
 * Goal: `paxos-kv watch` prints one JSON line per change, and when its stream ends it resumes
 * after the last revision it saw (a change or a progress event) on the next node of --url; a
 * resume the history no longer covers (410) ends it with exit 1; bad usage exits 2.
 * Method: runWatch in-process against a scripted node:http server.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { runWatch } from '../../src/cli/watch.js'

const asked: string[] = []
let server: Server
let url: string

beforeAll(async () => {
  server = createServer((request, response) => {
    asked.push(request.url ?? '')
    if (asked.length === 1) {
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      const change = (revision: number) => `id: ${revision}\nevent: change\ndata: {"revision":${revision},"changes":[{"type":"put","key":"k"}]}\n\n`
      response.end(`retry: 1000\n\n${change(4)}${change(6)}event: progress\ndata: {"revision":9}\n\n`)
      return
    }
    response.writeHead(410, { 'content-type': 'application/json' })
    response.end('{"error":"compacted","compactRevision":20}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('paxos-kv watch', () => {
  it('prints each change, resumes after the last revision seen, and stops on 410', async () => {
    const out = new PassThrough()
    let printed = ''
    out.on('data', (chunk: Buffer) => (printed += chunk.toString()))
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const code = await runWatch(['k', '--from-revision', '3', '--url', url], undefined, out)
    vi.restoreAllMocks()
    expect(code).toBe(1)
    expect(printed.trim().split('\n').map((line) => (JSON.parse(line) as { revision: number }).revision)).toEqual([4, 6])
    expect(asked).toEqual(['/v1/watch?key=k&progressMs=1000&fromRevision=3', '/v1/watch?key=k&progressMs=1000&fromRevision=10'])
  })

  it.each([[[]], [['a', 'b']], [['k', '--from-revision', '0']], [['k', '--url', 'nope']]])('bad usage %j exits 2', async (argv) => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const code = await runWatch(argv)
    vi.restoreAllMocks()
    expect(code).toBe(2)
  })
})
