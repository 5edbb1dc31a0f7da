/**
 * The wire form of KV commands, validated with zod where a peer's message is decoded: the
 * composition root hands `writeCommandSchema` to the peer codec (src/transport/codec.ts), which
 * knows the core's entries and nothing of keys. A compile-time check keeps it and the command
 * types identical.
 * @module
 */
import { z } from 'zod'
import type { Ballot } from '../core/ballot.js'
import { isLeaseId, type NodeId, type Revision } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { WriteCommand } from './command.js'
import { writeTwiceIn } from './txn-rules.js'

const maxInt = Number.MAX_SAFE_INTEGER

const revision = z.number().int().min(0).max(maxInt).transform((value) => value as Revision)
const key = z.string().min(1).refine((text) => Buffer.byteLength(text) <= limits.keyBytesMax, 'key too long')
/**
 * Canonical base64 (what the HTTP edge produces), checked by decoding and re-encoding: about
 * 5x faster than a character-class regex over a 1 MiB value, which was the largest single cost
 * of a follower's turn with maximal values.
 */
const base64 = z.string().max(Math.ceil((limits.valueBytesMax * 4) / 3) + 4).refine(
  (text) => text.length % 4 === 0 && Buffer.from(text, 'base64').toString('base64') === text,
  'not base64',
)
const proposalFields = {
  proposal: z.string().min(1).max(128),
  idempotency: z.strictObject({
    key: z.string().min(1).max(limits.idempotencyKeyBytesMax),
    atMs: z.number().int().min(0).max(maxInt),
  }).nullable(),
  request: z.strictObject({
    id: z.string().min(1).max(limits.requestIdBytesMax),
    atMs: z.number().int().min(0).max(maxInt),
  }).optional(),
  quotaBytes: z.number().int().min(0).max(maxInt).optional(),
}
const writeFields = { ...proposalFields, key, cas: revision.nullable() }
/** A leader's ballot: round 1 and up, a member's id (ballot zero is no leader's). */
const ballot = z.strictObject({ round: z.number().int().min(1).max(maxInt), node: z.number().int().min(1).max(limits.nodesMax) })
  .transform((value): Ballot => ({ round: value.round, node: value.node as NodeId }))
const prefix = z.string().refine((text) => Buffer.byteLength(text) <= limits.keyBytesMax, 'prefix too long')
const operator = z.enum(['=', '!=', '<', '>'])
const lease = z.string().refine(isLeaseId, 'not a lease id')
const txnCompare = z.discriminatedUnion('target', [
  z.strictObject({ key, target: z.literal('value'), op: operator, value: base64 }),
  z.strictObject({ key, target: z.enum(['version', 'createRevision', 'writes']), op: operator, value: z.number().int().min(0).max(maxInt) }),
  z.strictObject({ key, target: z.literal('lease'), op: operator, value: lease.nullable() }),
])
const txnOp = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('put'), key, value: base64, lease: lease.nullable() }),
  z.strictObject({ type: z.literal('delete'), key }),
  z.strictObject({ type: z.literal('deletePrefix'), prefix }),
  z.strictObject({ type: z.literal('get'), key }),
  z.strictObject({ type: z.literal('list'), prefix, limit: z.number().int().min(1).max(limits.listItemsMax) }),
])
const txnOps = z.array(txnOp).max(limits.txnPartsMax)
const txnCommand = z.strictObject({ type: z.literal('txn'), compare: z.array(txnCompare).max(limits.txnPartsMax), success: txnOps, failure: txnOps, ...proposalFields }).refine(
  (txn) => txn.compare.length + txn.success.length + txn.failure.length <= limits.txnPartsMax && writeTwiceIn(txn) === null,
  'a txn within the part limit that writes each key at most once',
)

/** One KV command as a peer sends it. */
export const writeCommandSchema = z.union([
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('put'), value: base64, lease: lease.optional(), ...writeFields }),
    z.strictObject({ type: z.literal('delete'), ...writeFields }),
  ]),
  txnCommand,
  z.strictObject({ type: z.literal('lease-grant'), id: lease, ttlSeconds: z.number().int().min(1).max(limits.leaseTtlSecondsMax), ...proposalFields }),
  z.strictObject({ type: z.literal('lease-revoke'), id: lease, expiryBallot: ballot.optional(), ...proposalFields }),
  z.strictObject({ type: z.literal('lease-epoch'), ballot, ...proposalFields }),
  z.strictObject({ type: z.literal('compact'), revision: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), ...proposalFields }),
])

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false
type Expect<T extends true> = T
type Decoded = z.output<typeof writeCommandSchema>
/** Every decoded command is a KV command, and the codec covers every command type. */
export type CommandCodecChecks = [
  Expect<Decoded extends WriteCommand ? true : false>,
  Expect<Equal<Decoded['type'], WriteCommand['type']>>,
]
