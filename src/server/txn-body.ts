/**
 * POST /v1/txn bodies: the API's JSON (api.md) validated with zod and turned into the TxnSpec the
 * state machine evaluates. Everything a replica would refuse is refused here first, with a 400
 * or 413 naming the part: bad keys and values, the op and read limits, the write-once rule.
 * @module
 */
import { z } from 'zod'
import type { TxnCompare, TxnOp, TxnSpec } from '../kv/command.js'
import { isLeaseId } from '../core/ids.js'
import { limits } from '../core/limits.js'
import { ApiError, type ApiErrorCode } from './errors.js'
import { txnProblem, type TxnProblem } from './txn-check.js'
import { checkKey } from './validate.js'

/**
 * Padded base64, made canonical (unused trailing bits cleared) as it is parsed: the peer codec
 * accepts only the canonical form, so a command must never carry another.
 */
const base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'not base64')
  .transform((text) => Buffer.from(text, 'base64').toString('base64'))
/** Keys as on the path (1..1024 bytes, no NUL); checked by the one key rule after parsing. */
const key = z.string()
const prefix = z.string().refine((text) => Buffer.byteLength(text) <= limits.keyBytesMax && !text.includes('\u0000'), 'a prefix is at most a key long, without NUL')
const operator = z.enum(['=', '!=', '<', '>'])
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const lease = z.string().refine(isLeaseId, 'a lease id is 1 to 19 digits, at most 2^63 - 1')

const compareSchema = z.discriminatedUnion('target', [
  z.strictObject({ key, target: z.literal('value'), op: operator, value: base64 }),
  z.strictObject({ key, target: z.enum(['version', 'createRevision', 'writes']), op: operator, value: count }),
  z.strictObject({ key, target: z.literal('lease'), op: operator, value: lease.nullable() }),
])

const opSchema = z.union([
  z.strictObject({ put: z.strictObject({ key, value: base64, lease: lease.nullable().optional() }) }),
  z.strictObject({ delete: z.strictObject({ key }) }),
  z.strictObject({ deletePrefix: z.strictObject({ prefix }) }),
  z.strictObject({ get: z.strictObject({ key }) }),
  z.strictObject({ list: z.strictObject({ prefix, limit: z.number().int().min(1).max(limits.listItemsMax).optional() }) }),
])

const txnSchema = z.strictObject({
  compare: z.array(compareSchema).max(limits.txnPartsMax).default([]),
  success: z.array(opSchema).max(limits.txnPartsMax).default([]),
  failure: z.array(opSchema).max(limits.txnPartsMax).default([]),
})

type OpJson = z.output<typeof opSchema>

const listLimitDefault = 100

function toOp(op: OpJson): TxnOp {
  if ('put' in op) return { type: 'put', key: checkKey(op.put.key, 'put key'), value: op.put.value, lease: op.put.lease ?? null }
  if ('delete' in op) return { type: 'delete', key: checkKey(op.delete.key, 'delete key') }
  if ('deletePrefix' in op) return { type: 'deletePrefix', prefix: op.deletePrefix.prefix }
  if ('get' in op) return { type: 'get', key: checkKey(op.get.key, 'get key') }
  return { type: 'list', prefix: op.list.prefix, limit: op.list.limit ?? listLimitDefault }
}

export function parseTxn(body: Uint8Array): TxnSpec {
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'))
  } catch {
    throw new ApiError('bad_request', 'the txn body is not JSON')
  }
  // Counted before the schema looks inside, so a huge txn is a 413 and not a list of 400s.
  const raw = json as { compare?: unknown; success?: unknown; failure?: unknown } | null
  const parts = [raw?.compare, raw?.success, raw?.failure].reduce<number>((sum, list) => sum + (Array.isArray(list) ? list.length : 0), 0)
  if (parts > limits.txnPartsMax) throw new ApiError('too_large', `a txn has at most ${limits.txnPartsMax} compares and ops together; this one has ${parts}`)
  const parsed = txnSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ApiError('bad_request', `bad txn: ${issue === undefined ? 'invalid' : `${issue.path.join('.') || 'body'}: ${issue.message}`}`)
  }
  const compare: TxnCompare[] = parsed.data.compare.map((entry) => ({ ...entry, key: checkKey(entry.key, 'compare key') }) as TxnCompare)
  const spec: TxnSpec = { compare, success: parsed.data.success.map(toOp), failure: parsed.data.failure.map(toOp) }
  const problem = txnProblem(spec)
  if (problem !== null) throw new ApiError(problemCodes[problem.kind], problem.message)
  return spec
}

const problemCodes: Readonly<Record<TxnProblem['kind'], ApiErrorCode>> = {
  too_many_parts: 'too_large',
  value_too_large: 'too_large',
  lease_not_found: 'lease_not_found',
  written_twice: 'bad_request',
  too_many_reads: 'too_large',
  command_too_large: 'too_large',
}
