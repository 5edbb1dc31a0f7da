/**
 * Client input, validated with zod before anything else sees it. Every failure is a 400 with a
 * message naming the bad part.
 * @module
 */
import { z } from 'zod'
import type { Revision } from '../core/ids.js'
import { limits } from '../core/limits.js'
import { ApiError } from './errors.js'

const keyPrefix = '/v1/kv/'

/** The key is the rest of the raw path after /v1/kv/, percent-decoded: 1..1024 bytes of UTF-8. */
export function keyFromPath(rawPath: string): string {
  let key: string
  try {
    key = decodeURIComponent(rawPath.slice(keyPrefix.length))
  } catch {
    throw new ApiError('bad_request', 'key is not valid percent-encoded UTF-8')
  }
  return checkKey(key, 'key')
}

export function checkKey(key: string, what: string): string {
  const bytes = Buffer.byteLength(key)
  if (bytes === 0) throw new ApiError('bad_request', `${what} must not be empty`)
  if (bytes > limits.keyBytesMax) throw new ApiError('bad_request', `${what} is ${bytes} bytes; the limit is ${limits.keyBytesMax}`)
  if (key.includes('\u0000')) throw new ApiError('bad_request', `${what} must not contain NUL`)
  return key
}

const casSchema = z.string().regex(/^\d{1,16}$/).transform(Number).pipe(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER))

export function parseCas(raw: string | undefined): Revision | null {
  if (raw === undefined) return null
  const parsed = casSchema.safeParse(raw)
  if (!parsed.success) throw new ApiError('bad_request', `cas must be a non-negative integer, got ${JSON.stringify(raw)}`)
  return parsed.data as Revision
}

export type Consistency = 'linearizable' | 'stale'

export function parseConsistency(raw: string | undefined): Consistency {
  if (raw === undefined || raw === 'linearizable') return 'linearizable'
  if (raw === 'stale') return 'stale'
  throw new ApiError('bad_request', `consistency must be "stale" or "linearizable", got ${JSON.stringify(raw)}`)
}

const limitSchema = z.string().regex(/^\d{1,7}$/).transform(Number).pipe(z.number().int().min(1).max(limits.listItemsMax))
const listLimitDefault = 100

export type ListQuery = Readonly<{ prefix: string; limit: number; after: string | null }>

/** `after` resumes a listing strictly after that key: the last key of the previous page. */
export function parseListQuery(query: Readonly<Record<string, string>>): ListQuery {
  const prefix = query.prefix ?? ''
  if (Buffer.byteLength(prefix) > limits.keyBytesMax) throw new ApiError('bad_request', 'prefix is longer than a key can be')
  const after = query.after === undefined ? null : checkKey(query.after, 'after')
  if (query.limit === undefined) return { prefix, limit: listLimitDefault, after }
  const parsed = limitSchema.safeParse(query.limit)
  if (!parsed.success) throw new ApiError('bad_request', `limit must be an integer from 1 to ${limits.listItemsMax}, got ${JSON.stringify(query.limit)}`)
  return { prefix, limit: parsed.data, after }
}

const allowedQuery = { put: ['cas'], delete: ['cas'], get: ['consistency'], list: ['prefix', 'limit', 'after', 'consistency'], 'delete-prefix': ['prefix'], txn: [] } as const

/** Unknown query parameters are mistakes (a typo of `cas` must not become an unconditional write). */
export function checkQuery(query: Readonly<Record<string, string>>, route: keyof typeof allowedQuery): void {
  const allowed: readonly string[] = allowedQuery[route]
  for (const name of Object.keys(query)) {
    if (!allowed.includes(name)) throw new ApiError('bad_request', `unknown query parameter ${JSON.stringify(name)}`)
  }
}

export function parseIdempotencyKey(raw: string | undefined): string | null {
  if (raw === undefined) return null
  const bytes = Buffer.byteLength(raw)
  if (bytes === 0 || bytes > limits.idempotencyKeyBytesMax) {
    throw new ApiError('bad_request', `Idempotency-Key must be 1 to ${limits.idempotencyKeyBytesMax} bytes`)
  }
  return raw
}
