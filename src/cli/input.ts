/**
 * A value or a txn body for the client commands, from a file or stdin, read with a bound: past
 * it the command stops with a usage error instead of holding an endless stream in memory.
 * @module
 */
import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'

/** The input is too large, or cannot be read (a missing file, no permission). */
export class InputError extends Error {
  override name = 'InputError'
}

/** `source`: a path, or '-' for stdin. Throws InputError past `bytesMax` or when it cannot be read. */
export async function readInput(source: string, bytesMax: number, stdin: Readable = process.stdin): Promise<Buffer> {
  const name = source === '-' ? 'stdin' : source
  const stream = source === '-' ? stdin : createReadStream(source)
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      size += bytes.length
      if (size > bytesMax) throw new InputError(`${name} is larger than ${bytesMax} bytes`)
      chunks.push(bytes)
    }
  } catch (error) {
    if (stream !== stdin) stream.destroy()
    if (error instanceof InputError) throw error
    throw new InputError(`cannot read ${name}: ${(error as Error).message}`)
  }
  return Buffer.concat(chunks, size)
}
