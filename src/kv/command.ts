/**
 * The KV commands: what this state machine puts in the log. The core carries them opaquely
 * (src/core/command.ts) and learns their size and proposal through `kvCommands`.
 * @module
 */
import { assertNever } from '../core/assert.js'
import { formatBallot, type Ballot } from '../core/ballot.js'
import type { CommandPort, CoreEntry, Entry, ProposalId, Value } from '../core/command.js'
import type { Revision } from '../core/ids.js'
import { byteLimits, checkByteLimits, limits } from '../core/limits.js'

/** Unique per client request, given by the first node that received it. */
export type RequestId = string

/** What every command that changes state carries besides its own fields: identity, dedupe, quota. */
type ProposalFields = Readonly<{
  proposal: ProposalId
  /**
   * Set when the client sent `Idempotency-Key`. `atMs` is the proposer's wall clock, carried in
   * the log so that every replica expires records identically (the core never reads a clock).
   */
  idempotency: Readonly<{ key: string; atMs: number }> | null
  /**
   * Set on a write without an Idempotency-Key once it was forwarded: the id the first node gave
   * the client's request, the same on every forward and retry of it, so the state machine
   * applies it once. `atMs` as above.
   */
  request?: Readonly<{ id: RequestId; atMs: number }> | undefined
  /**
   * The live-data quota in bytes, set by the proposing leader from its configuration and carried
   * in the log so that every replica refuses the same puts. Absent: no quota (older logs).
   */
  quotaBytes?: number | undefined
}>

type WriteFields = ProposalFields & Readonly<{
  key: string
  /** `null`: unconditional. `0`: the key must not exist. `n`: the key's version must be n. */
  cas: Revision | null
}>

/** `lease`: the lease the key is attached to from now on (absent: none, as in older logs). */
export type PutCommand = Readonly<{ type: 'put'; value: string /* base64 */; lease?: string | undefined }> & WriteFields
export type DeleteCommand = Readonly<{ type: 'delete' }> & WriteFields

export type CompareOperator = '=' | '!=' | '<' | '>'

/**
 * One condition of a txn on one key's current state. A missing key has version, createRevision
 * and writes 0 and lease null; a `value` compare on a missing key is false (as in etcd).
 */
export type TxnCompare =
  | Readonly<{ key: string; target: 'value'; op: CompareOperator; value: string /* base64 */ }>
  | Readonly<{ key: string; target: 'version' | 'createRevision' | 'writes'; op: CompareOperator; value: number }>
  | Readonly<{ key: string; target: 'lease'; op: CompareOperator; value: string | null /* lease id digits */ }>

export type TxnOp =
  | Readonly<{ type: 'put'; key: string; value: string /* base64 */; lease: string | null }>
  | Readonly<{ type: 'delete'; key: string }>
  | Readonly<{ type: 'deletePrefix'; prefix: string }>
  | Readonly<{ type: 'get'; key: string }>
  | Readonly<{ type: 'list'; prefix: string; limit: number }>

/** A transaction: when every compare holds the success ops run, else the failure ops. */
export type TxnSpec = Readonly<{ compare: readonly TxnCompare[]; success: readonly TxnOp[]; failure: readonly TxnOp[] }>

/** A txn in the log: applied as one step at one revision (see src/kv/txn.ts). */
export type TxnCommand = Readonly<{ type: 'txn' }> & TxnSpec & ProposalFields

/**
 * Leases (src/kv/leases): a grant names its id (chosen by the node that took the request, digits
 * that fit int64) and TTL; a revoke deletes the lease and its keys in one revision. Expiry is a
 * revoke the leader proposes; keepalives never reach the log.
 */
export type LeaseGrantCommand = Readonly<{ type: 'lease-grant'; id: string; ttlSeconds: number }> & ProposalFields
/**
 * `expiryBallot`: set on a revoke the leader proposes for an expiry, the ballot it led at when it
 * decided it; such a revoke is ignored once a newer leader's epoch is applied (src/kv/leases.ts).
 * Absent: a client's revoke (and an expiry of an older log), never ignored.
 */
export type LeaseRevokeCommand = Readonly<{ type: 'lease-revoke'; id: string; expiryBallot?: Ballot | undefined }> & ProposalFields
/**
 * A leader's lease epoch marker: proposed once it takes over, carrying its ballot; it serves no
 * keepalive and decides no expiry before the marker is applied (src/node/lease-keeper.ts).
 */
export type LeaseEpochCommand = Readonly<{ type: 'lease-epoch'; ballot: Ballot }> & ProposalFields

/**
 * etcd's compact: the change history (what watches and reads at past revisions are served from)
 * drops what is older than `revision` on every replica at the same point of the log. It changes
 * no key and no revision.
 */
export type CompactCommand = Readonly<{ type: 'compact'; revision: number }> & ProposalFields

/** A command the KV proposes: every one changes state. */
export type WriteCommand = PutCommand | DeleteCommand | TxnCommand | LeaseGrantCommand | LeaseRevokeCommand | LeaseEpochCommand | CompactCommand
/** An entry of a KV log: a command or one of the core's own (a noop). */
export type Command = Entry<WriteCommand>
/** A slot's value in a KV log. */
export type KvValue = Value<WriteCommand>

type Expect<T extends true> = T
/** The core tells its own entries from commands by `type`: no KV command may use one of its tags. */
export type CommandChecks = [Expect<[Extract<WriteCommand['type'], CoreEntry['type']>] extends [never] ? true : false>]

/**
 * An upper bound of the command's JSON size in UTF-8 bytes (a test holds it to that), for the
 * byte bounds on slots and messages. Text fields count 6 bytes per UTF-16 unit (the most one
 * costs, escaped as \uXXXX); a put's value is base64, one byte per character.
 */
export function commandBytes(command: WriteCommand): number {
  switch (command.type) {
    case 'delete':
      return writeFieldBytes(command)
    case 'put':
      return writeFieldBytes(command) + command.value.length + (command.lease === undefined ? 0 : 32)
    case 'txn':
      return txnBytes(command)
    case 'lease-grant':
    case 'compact':
      return proposalFieldBytes(command) + 64
    case 'lease-revoke':
      return proposalFieldBytes(command) + 64 + (command.expiryBallot === undefined ? 0 : ballotBytes)
    case 'lease-epoch':
      return proposalFieldBytes(command) + 32 + ballotBytes
  }
}

/** `,"expiryBallot":{"round":…,"node":…}` with a safe integer round and a node id: at most 64 bytes. */
const ballotBytes = 64

/**
 * The largest command the HTTP edge accepts, as commandBytes estimates it: a maximal value in
 * base64, a maximal key and idempotency key (every character escaped), a 128-character proposal
 * and a maximal request id (a command carries one or the other; both are counted).
 */
export const commandBytesMax =
  4 * Math.ceil(limits.valueBytesMax / 3) + 6 * (limits.keyBytesMax + limits.idempotencyKeyBytesMax + 128) + 160 + 64 + 6 * limits.requestIdBytesMax

// A maximal command must fit one slot of the production byte bounds.
checkByteLimits(byteLimits, commandBytesMax)

/** What the core learns of a KV command. */
export const kvCommands: CommandPort<WriteCommand> = Object.freeze({
  bytes: commandBytes,
  proposal: (command: WriteCommand) => command.proposal,
})

/**
 * A compare or an op: its JSON punctuation, names and a number or lease id fit in 96 bytes;
 * its key or prefix as text, a base64 value one byte per character.
 */
const txnPartOverheadBytes = 96

function txnBytes(command: TxnCommand): number {
  const partBytes = (part: TxnCompare | TxnOp): number => {
    const text = 'prefix' in part ? part.prefix : part.key
    const value = 'value' in part && typeof part.value === 'string' && !('target' in part && part.target === 'lease') ? part.value.length : 0
    return txnPartOverheadBytes + 6 * text.length + value
  }
  let bytes = proposalFieldBytes(command) + 64 // "compare":[],"success":[],"failure":[]
  for (const part of [...command.compare, ...command.success, ...command.failure]) bytes += partBytes(part) + 1
  return bytes
}

/**
 * Everything of a write but a put's value: `{"request":{"id":…,"atMs":…}}` is at most 64 bytes
 * plus its id, `,"quotaBytes":` and a safe integer at most 32.
 */
function writeFieldBytes(command: PutCommand | DeleteCommand): number {
  return proposalFieldBytes(command) + 6 * command.key.length
}

function proposalFieldBytes(command: ProposalFields): number {
  const request = command.request === undefined ? 0 : 64 + 6 * command.request.id.length
  const quota = command.quotaBytes === undefined ? 0 : 32
  return 160 + 6 * (command.proposal.length + (command.idempotency?.key.length ?? 0)) + request + quota
}

/** One line for transcripts and simulator traces (src/core/describe.ts renders the rest). */
export function describeCommand(command: WriteCommand): string {
  switch (command.type) {
    case 'put':
      return `put ${command.key}${command.cas === null ? '' : ` cas=${command.cas}`}`
    case 'delete':
      return `del ${command.key}${command.cas === null ? '' : ` cas=${command.cas}`}`
    case 'txn':
      return `txn ${command.compare.length}?${command.success.length}:${command.failure.length}`
    case 'lease-grant':
      return `lease-grant ${command.id} ttl=${command.ttlSeconds}`
    case 'lease-revoke':
      return `lease-revoke ${command.id}${command.expiryBallot === undefined ? '' : ` expiry@${formatBallot(command.expiryBallot)}`}`
    case 'lease-epoch':
      return `lease-epoch ${formatBallot(command.ballot)}`
    case 'compact':
      return `compact ${command.revision}`
    default:
      return assertNever(command)
  }
}
