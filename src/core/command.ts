/**
 * What rides in the log. A slot's value is a batch of commands chosen together; a gap is filled
 * with a one-noop batch.
 * @module
 */
import type { NodeId, Revision } from './ids.js'

/** Unique per proposing node incarnation; lets the proposer match an applied command to its client. */
export type ProposalId = string

/** Unique per client request, given by the first node that received it. */
export type RequestId = string

type WriteFields = Readonly<{
  proposal: ProposalId
  key: string
  /** `null`: unconditional. `0`: the key must not exist. `n`: the key's version must be n. */
  cas: Revision | null
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

export type PutCommand = Readonly<{ type: 'put'; value: string /* base64 */ }> & WriteFields
export type DeleteCommand = Readonly<{ type: 'delete' }> & WriteFields
export type NoopCommand = Readonly<{ type: 'noop' }>
export type WriteCommand = PutCommand | DeleteCommand
export type Command = WriteCommand | NoopCommand

/** A slot's value. Invariant: non-empty. */
export type Value = readonly Command[]

export const noopValue: Value = Object.freeze([Object.freeze({ type: 'noop' } as const)])

export type ProposeResult =
  | Readonly<{ type: 'proposed' }>
  | Readonly<{ type: 'not_leader'; leader: NodeId | null }>
  | Readonly<{ type: 'overloaded' }>

/**
 * An upper bound of the command's JSON size in UTF-8 bytes (a test holds it to that), for the
 * byte bounds on slots and messages. Text fields count 6 bytes per UTF-16 unit (the most one
 * costs, escaped as \uXXXX); a put's value is base64, one byte per character.
 */
export function commandBytes(command: Command): number {
  switch (command.type) {
    case 'noop':
      return 16
    case 'delete':
      return writeFieldBytes(command)
    case 'put':
      return writeFieldBytes(command) + command.value.length
  }
}

/**
 * Everything of a write but a put's value: `{"request":{"id":…,"atMs":…}}` is at most 64 bytes
 * plus its id, `,"quotaBytes":` and a safe integer at most 32.
 */
function writeFieldBytes(command: WriteCommand): number {
  const request = command.request === undefined ? 0 : 64 + 6 * command.request.id.length
  const quota = command.quotaBytes === undefined ? 0 : 32
  return 160 + 6 * (command.key.length + command.proposal.length + (command.idempotency?.key.length ?? 0)) + request + quota
}
