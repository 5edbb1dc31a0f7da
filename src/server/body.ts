/**
 * Request bodies with a size bound, read without building a WHATWG Request: with a
 * content-length the Node adapter reads the socket straight into one buffer, and a body that
 * declares too much is refused (413) before a byte is read. A body without a length (chunked)
 * is counted as it streams and refused as soon as it passes the bound.
 * @module
 */
import type { Context } from 'hono'
import { ApiError } from './errors.js'

export async function readBoundedBody(c: Context, maxBytes: number, tooLarge: string): Promise<Uint8Array> {
  const declared = c.req.header('content-length')
  if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
    if (!/^\d+$/.test(declared)) throw new ApiError('bad_request', 'content-length is not a number')
    if (Number(declared) > maxBytes) throw new ApiError('too_large', tooLarge)
    return new Uint8Array(await c.req.arrayBuffer())
  }
  const stream = c.req.raw.body
  if (stream === null) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of stream) {
    size += chunk.byteLength
    if (size > maxBytes) throw new ApiError('too_large', tooLarge)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, size)
}
