/**
 * The etcd port's authority repair, byte by byte: which authorities are repaired, that the
 * literals it writes decode to the same fields, that a client byte stream built by a real HPACK
 * encoder (dynamic table, Huffman, CONTINUATION, padding) comes out with every authority cut to
 * host:port and every other frame unchanged, in any chunking; and when a connection's start is
 * decided (and that the acknowledgement of our SETTINGS is cut out).
 */
import hpack from 'hpack.js'
import { describe, expect, it } from 'vitest'
import { AuthorityRewriter, ConnectionStart, encodeLiterals, ourSettings, repairedAuthority } from '../../../src/server/etcd/authority-repair.js'
import { limits } from '../../../src/core/limits.js'

type Field = { name: string; value: string }

const clientPreface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9)
  header.writeUIntBE(payload.length, 0, 3)
  header[3] = type
  header[4] = flags
  header.writeUInt32BE(stream, 5)
  return Buffer.concat([header, payload])
}

const settings = (flags = 0): Buffer => frame(0x4, flags, 0, Buffer.alloc(0))
const data = (stream: number, text: string, flags = 0): Buffer => frame(0x0, flags, stream, Buffer.from(text))
const ping = (): Buffer => frame(0x6, 0, 0, Buffer.alloc(8))

/** A client's encoder: its dynamic table carries over from block to block, as a real one does. */
function clientEncoder(): (fields: readonly Field[]) => Buffer {
  const compressor = (hpack as unknown as { compressor: { create(options: { table: { size: number } }): { write(fields: readonly Field[]): void; read(): Buffer | null } } }).compressor.create({ table: { size: 4096 } })
  return (fields) => {
    compressor.write(fields)
    const chunks: Buffer[] = []
    for (let chunk = compressor.read(); chunk !== null; chunk = compressor.read()) chunks.push(chunk)
    return Buffer.concat(chunks)
  }
}

function request(authority: string, path: string): Field[] {
  return [
    { name: ':method', value: 'POST' }, { name: ':scheme', value: 'http' }, { name: ':path', value: path },
    { name: ':authority', value: authority }, { name: 'content-type', value: 'application/grpc' }, { name: 'te', value: 'trailers' },
  ]
}

type ParsedFrame = { type: number; flags: number; stream: number; payload: Buffer }

function parseFrames(bytes: Buffer): ParsedFrame[] {
  const frames: ParsedFrame[] = []
  let offset = 0
  while (offset < bytes.length) {
    const length = bytes.readUIntBE(offset, 3)
    frames.push({ type: bytes[offset + 3]!, flags: bytes[offset + 4]!, stream: bytes.readUInt32BE(offset + 5), payload: bytes.subarray(offset + 9, offset + 9 + length) })
    offset += 9 + length
  }
  return frames
}

/** The server's view: each header block decoded with a fresh table (the rewriter must need none). */
function serverBlocks(frames: readonly ParsedFrame[]): Array<{ stream: number; endStream: boolean; fields: Field[] }> {
  const decompressor = hpack.decompressor.create({ table: { size: 4096 } })
  const blocks: Array<{ stream: number; endStream: boolean; fields: Field[] }> = []
  let open: { stream: number; endStream: boolean; parts: Buffer[] } | null = null
  for (const one of frames) {
    if (one.type === 0x1) open = { stream: one.stream, endStream: (one.flags & 0x1) !== 0, parts: [] }
    if (one.type !== 0x1 && one.type !== 0x9) continue
    open!.parts.push(one.payload)
    if ((one.flags & 0x4) === 0) continue
    decompressor.write(Buffer.concat(open!.parts))
    decompressor.execute()
    const fields: Field[] = []
    for (let field = decompressor.read(); field !== null; field = decompressor.read()) fields.push({ name: field.name, value: field.value })
    blocks.push({ stream: open!.stream, endStream: open!.endStream, fields })
    open = null
  }
  return blocks
}

/** Feeds `bytes` to the rewriter in chunks of the given sizes (cycled). */
function rewrite(bytes: Buffer, sizes: readonly number[]): Buffer {
  const rewriter = new AuthorityRewriter()
  const out: Buffer[] = []
  for (let offset = 0, index = 0; offset < bytes.length; index += 1) {
    const size = sizes[index % sizes.length]!
    out.push(...rewriter.push(bytes.subarray(offset, offset + size)))
    offset += size
  }
  return Buffer.concat(out)
}

describe('repairedAuthority', () => {
  it.each([
    ['http://127.0.0.1:2379', '127.0.0.1:2379'],
    ['https://etcd.example:2379/', 'etcd.example:2379'],
    ['HTTP://[::1]:2379', '[::1]:2379'],
    ['127.0.0.1:2379', null],
    ['localhost', null],
    ['unix:///tmp/etcd.sock', null],
    ['', null],
  ])('%s -> %s', (authority, repaired) => {
    expect(repairedAuthority(authority)).toBe(repaired)
  })
})

describe('encodeLiterals', () => {
  it('decodes to the same fields, long values (multi-byte lengths) and any bytes included, with no table', () => {
    // Fields are byte strings, one char per byte, as the decoder gives them: UTF-8 survives as its bytes.
    const utf8 = Buffer.from('ключ', 'utf8').toString('latin1')
    const fields = [...request('127.0.0.1:2379', '/etcdserverpb.Maintenance/Status'), { name: 'x-long', value: 'v'.repeat(300) }, { name: 'x-utf8', value: utf8 }, { name: 'x-bin', value: '\u0000\u00ff\u0080' }]
    const decompressor = hpack.decompressor.create({ table: { size: 0 } })
    decompressor.write(encodeLiterals(fields))
    decompressor.execute()
    const decoded: Field[] = []
    for (let field = decompressor.read(); field !== null; field = decompressor.read()) decoded.push({ name: field.name, value: field.value })
    expect(decoded).toEqual(fields)
  })
})

describe('AuthorityRewriter', () => {
  const encode = clientEncoder()
  const first = encode(request('http://127.0.0.1:2379', '/etcdserverpb.Maintenance/Status'))
  // The second block refers to the first's table entries: only a decoder that saw the first reads it.
  const second = encode(request('http://127.0.0.1:2379', '/etcdserverpb.KV/Range'))
  const third = encode(request('http://127.0.0.1:2379', '/etcdserverpb.KV/Put'))
  const padded = Buffer.concat([Buffer.from([3]), second, Buffer.alloc(3)])
  const withPriority = Buffer.concat([Buffer.from([0, 0, 0, 0, 16]), third.subarray(0, 4)])
  const client = Buffer.concat([
    clientPreface, settings(), settings(0x1),
    frame(0x1, 0x4, 1, first), data(1, 'request one', 0x1),
    frame(0x1, 0x4 | 0x8, 3, padded), data(3, 'request two', 0x1),
    frame(0x1, 0x20 | 0x1, 5, withPriority), frame(0x9, 0x4, 5, third.subarray(4)),
    ping(),
  ])

  it.each([[[client.length]], [[1]], [[7, 3, 50]], [[9]]])('cuts every authority to host:port and passes every other frame unchanged (chunks of %j)', (sizes) => {
    const out = rewrite(client, sizes)
    expect(out.subarray(0, clientPreface.length).equals(clientPreface)).toBe(true)
    const frames = parseFrames(out.subarray(clientPreface.length))
    expect(frames.map((one) => one.type)).toEqual([0x4, 0x4, 0x1, 0x0, 0x1, 0x0, 0x1, 0x6])
    const blocks = serverBlocks(frames)
    expect(blocks.map((block) => [block.stream, block.endStream])).toEqual([[1, false], [3, false], [5, true]])
    const paths = ['/etcdserverpb.Maintenance/Status', '/etcdserverpb.KV/Range', '/etcdserverpb.KV/Put']
    blocks.forEach((block, index) => expect(block.fields).toEqual(request('127.0.0.1:2379', paths[index]!)))
    expect(frames.filter((one) => one.type === 0x0).map((one) => one.payload.toString())).toEqual(['request one', 'request two'])
  })

  it('refuses a header block over the limit, and bytes that are not HTTP/2', () => {
    const huge = encodeLiterals([{ name: 'x-big', value: 'v'.repeat(limits.etcdHeaderBlockBytesMax) }])
    const pieces = [frame(0x1, 0, 1, huge.subarray(0, 16_000))]
    for (let offset = 16_000; offset < huge.length; offset += 16_000) pieces.push(frame(0x9, 0, 1, huge.subarray(offset, offset + 16_000)))
    expect(() => new AuthorityRewriter().push(Buffer.concat([clientPreface, ...pieces]))).toThrow('over the limit')
    expect(() => new AuthorityRewriter().push(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toThrow('not HTTP/2')
  })
})

describe('ConnectionStart', () => {
  const block = (authority: string): Buffer => frame(0x1, 0x4, 1, clientEncoder()(request(authority, '/etcdserverpb.Maintenance/Status')))

  it('waits for both the first request and the acknowledgement of our SETTINGS, in either order, and cuts the acknowledgement out', () => {
    for (const order of ['ack first', 'request first'] as const) {
      const start = new ConnectionStart()
      const head = Buffer.concat([clientPreface, settings()])
      expect(start.push(head).type).toBe('more')
      const request = block('127.0.0.1:2379')
      const [one, two] = order === 'ack first' ? [settings(0x1), request] : [request, settings(0x1)]
      expect(start.push(one).type).toBe('more')
      const outcome = start.push(Buffer.concat([two, data(1, 'body')]))
      expect(outcome).toEqual({ type: 'decided', repair: false, bytes: Buffer.concat([head, request, data(1, 'body')]) })
    }
  })

  it('decides repair for a URL authority', () => {
    const start = new ConnectionStart()
    const outcome = start.push(Buffer.concat([clientPreface, settings(), settings(0x1), block('http://127.0.0.1:2379')]))
    expect(outcome.type === 'decided' && outcome.repair).toBe(true)
  })

  it('passes a connection on once acknowledged and a frame wants an answer (a PING), or when idle; not before the acknowledgement', () => {
    const pinged = new ConnectionStart()
    expect(pinged.push(Buffer.concat([clientPreface, settings(), ping()])).type).toBe('more')
    expect(pinged.push(settings(0x1))).toEqual({ type: 'decided', repair: false, bytes: Buffer.concat([clientPreface, settings(), ping()]) })
    const idle = new ConnectionStart()
    expect(idle.push(Buffer.concat([clientPreface, settings()])).type).toBe('more')
    expect(idle.idle().type).toBe('more')
    expect(idle.push(settings(0x1)).type).toBe('more')
    expect(idle.idle()).toEqual({ type: 'decided', repair: false, bytes: Buffer.concat([clientPreface, settings()]) })
  })

  it('passes bytes that are not HTTP/2 as they are, at once', () => {
    const bytes = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    expect(new ConnectionStart().push(bytes)).toEqual({ type: 'decided', repair: false, bytes })
  })

  it('our SETTINGS is an empty SETTINGS frame on stream 0', () => {
    expect(parseFrames(ourSettings)).toEqual([{ type: 0x4, flags: 0, stream: 0, payload: Buffer.alloc(0) }])
  })
})
