/**
 * The wire form of peer messages, validated with zod at the edge. The core's entries are known
 * here; the application's commands are validated by the schema the composition root injects
 * (src/kv/command-codec.ts), so nothing here knows keys. Compile-time checks keep the schemas
 * and the core's message types identical, so a new message type cannot be forgotten.
 * @module
 */
import { z } from 'zod'
import { assert } from '../core/assert.js'
import type { AppCommand } from '../core/command.js'
import { memberListProblem } from '../core/configuration.js'
import type { NodeId, Slot } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { PeerMessage, PeerMessageType } from '../core/messages.js'

const maxInt = Number.MAX_SAFE_INTEGER

const slot = z.number().int().min(0).max(maxInt).transform((value) => value as Slot)
const node = z.number().int().min(1).max(limits.nodesMax).transform((value) => value as NodeId)
const ballot = z.strictObject({
  round: z.number().int().min(0).max(maxInt),
  node: z.number().int().min(0).max(limits.nodesMax).transform((value) => value as NodeId),
})
const noopEntry = z.strictObject({ type: z.literal('noop') })
/** A member list in the log (src/core/configuration.ts); its rules are checked again by the core's. */
const configMember = z.strictObject({ id: node, url: z.string().url().max(limits.memberUrlBytesMax), role: z.enum(['voter', 'learner']) })
const configEntry = z.strictObject({ type: z.literal('config'), members: z.array(configMember).min(1).max(limits.nodesMax) })
  .refine((entry) => memberListProblem(entry.members) === null, 'a configuration needs distinct members and URLs and at least one voter')
const slotsPerMessageMax = 4 * limits.pipelineSlotsMax

/** The schemas of a peer batch whose values carry commands that `command` validates. */
export function peerSchemas<C extends AppCommand>(command: z.ZodType<C>) {
  // Commands first: nearly every entry is one, and a noop is tried only when that fails.
  const value = z.array(z.union([command, noopEntry, configEntry])).min(1).max(limits.batchCommandsMax)
  const logEntry = z.strictObject({ slot, ballot, value, chosen: z.boolean() })
  const chosenEntry = z.strictObject({ slot, value })
  const message = z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('prepare'), ballot, fromSlot: slot }),
    z.strictObject({ type: z.literal('promise'), ballot, fromSlot: slot, accepted: z.array(logEntry).max(limits.promisePageSlotsMax), throughSlot: slot, more: z.boolean(), compactedThrough: slot.optional() }).refine(
      (page) => isPromisePage(page),
      'a promise page must list its entries in order within fromSlot..throughSlot, and end on one when more follows',
    ),
    z.strictObject({ type: z.literal('accept'), ballot, firstSlot: slot, values: z.array(value).min(1).max(slotsPerMessageMax), commitIndex: slot }),
    z.strictObject({ type: z.literal('accepted'), ballot, firstSlot: slot, lastSlot: slot }).refine(
      (message) => message.lastSlot >= message.firstSlot && message.lastSlot - message.firstSlot < slotsPerMessageMax,
      'bad slot range',
    ),
    z.strictObject({ type: z.literal('reject'), ballot, promised: ballot }),
    z.strictObject({ type: z.literal('heartbeat'), ballot, commitIndex: slot, readRound: z.number().int().min(0).max(maxInt) }),
    z.strictObject({ type: z.literal('heartbeat-ack'), ballot, readRound: z.number().int().min(0).max(maxInt), commitIndex: slot.optional() }),
    z.strictObject({ type: z.literal('catch-up'), fromSlot: slot }),
    z.strictObject({ type: z.literal('chosen'), entries: z.array(chosenEntry).min(1).max(limits.catchUpSlotsMax) }),
    z.strictObject({ type: z.literal('compacted'), through: slot }),
    z.strictObject({ type: z.literal('pre-vote'), ballot, commitIndex: slot }),
    z.strictObject({ type: z.literal('pre-vote-reply'), ballot, granted: z.boolean(), promised: ballot }),
  ])
  /** POST /peer/messages and every stream frame: a batch from one node to another. */
  const batch = z.strictObject({
    from: node,
    to: node,
    messages: z.array(message).min(1).max(limits.outboxEnvelopesMax),
  })
  return { message, batch }
}

/** What the candidate relies on to page through a report (see PromiseMessage). */
function isPromisePage(page: { fromSlot: number; throughSlot: number; more: boolean; accepted: readonly { slot: number }[]; compactedThrough?: number | undefined }): boolean {
  if (page.throughSlot < page.fromSlot - 1) return false
  // A compacted page lists nothing and ends at the compaction point, at or above fromSlot.
  if (page.compactedThrough !== undefined) return page.accepted.length === 0 && page.compactedThrough === page.throughSlot && page.throughSlot >= page.fromSlot
  let previous = page.fromSlot - 1
  for (const entry of page.accepted) {
    if (entry.slot <= previous || entry.slot > page.throughSlot) return false
    previous = entry.slot
  }
  return !page.more || (page.accepted.length > 0 && previous === page.throughSlot)
}

export type PeerBatch<C extends AppCommand> = Readonly<{ from: NodeId; to: NodeId; messages: readonly PeerMessage<C>[] }>

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false
type Expect<T extends true> = T
/** A stand-in command: the checks hold for any the codec is given. */
type ProbeCommand = Readonly<{ type: 'probe'; n: number }>
type Decoded = z.output<ReturnType<typeof peerSchemas<ProbeCommand>>['message']>
/** Every decoded message is a core message, and the codec covers every message type. */
export type CodecChecks = [
  Expect<Decoded extends PeerMessage<ProbeCommand> ? true : false>,
  Expect<Equal<Decoded['type'], PeerMessageType>>,
]

export type DecodeResult<C extends AppCommand> = Readonly<{ ok: true; batch: PeerBatch<C> }> | Readonly<{ ok: false; error: string }>

/** Decodes peer batches whose commands `command` validates. */
export class PeerCodec<C extends AppCommand> {
  readonly #batch: z.ZodType<PeerBatch<C>>

  constructor(command: z.ZodType<C>) {
    this.#batch = peerSchemas(command).batch
  }

  decodeBatch(json: unknown): DecodeResult<C> {
    const parsed = this.#batch.safeParse(json)
    if (parsed.success) return { ok: true, batch: parsed.data }
    const issue = parsed.error.issues[0]
    return { ok: false, error: issue === undefined ? 'invalid batch' : `${issue.path.join('.') || 'body'}: ${issue.message}` }
  }
}

/** A message too large for any frame: it is not sent, and the caller reports it. */
export type OversizedMessage = Readonly<{ type: PeerMessageType; bytes: number }>

/**
 * One frame: a batch as newline-terminated JSON, as the pieces to write in order. Large
 * messages stay pieces of their own and small ones are coalesced, so no string is built that
 * is much longer than the longest message.
 */
export type Frame = Readonly<{ pieces: string[]; messages: number; bytes: number }>

/** Pieces shorter than this are joined before they are written. */
const coalesceBytes = 64 * 1024

/**
 * Packs `messages` into frames of at most `frameBytesMax` bytes (newline included) and
 * `outboxEnvelopesMax` messages, in order. A broadcast puts one message object in every peer's
 * batch: with a shared `encoded` cache each message is stringified once, not once per peer.
 */
export function encodeFrames(
  batch: PeerBatch<AppCommand>,
  frameBytesMax: number,
  encoded: Map<PeerMessage<AppCommand>, string> = new Map(),
): { frames: Frame[]; oversized: OversizedMessage[] } {
  const head = `{"from":${JSON.stringify(batch.from)},"to":${JSON.stringify(batch.to)},"messages":[`
  const tail = ']}\n'
  const frames: Frame[] = []
  const oversized: OversizedMessage[] = []
  let pieces: string[] = []
  let small = head
  let count = 0
  let bytes = head.length + tail.length
  const close = (): void => {
    if (count === 0) return
    pieces.push(small + tail)
    frames.push({ pieces, messages: count, bytes })
    pieces = []
    small = head
    count = 0
    bytes = head.length + tail.length
  }
  for (const message of batch.messages) {
    let json = encoded.get(message)
    if (json === undefined) {
      json = JSON.stringify(message)
      encoded.set(message, json)
    }
    const size = Buffer.byteLength(json)
    if (head.length + tail.length + size > frameBytesMax) {
      oversized.push({ type: message.type, bytes: size })
      continue
    }
    if (count > 0 && (bytes + size + 1 > frameBytesMax || count === limits.outboxEnvelopesMax)) close()
    const first = count === 0
    const piece = first ? json : `,${json}`
    if (piece.length >= coalesceBytes) {
      pieces.push(small, piece)
      small = ''
    } else {
      small += piece
      if (small.length >= coalesceBytes) {
        pieces.push(small)
        small = ''
      }
    }
    count += 1
    bytes += first ? size : size + 1
  }
  close()
  return { frames, oversized }
}

/** The same JSON as `JSON.stringify(batch)`, in one string: for small batches (tests, tools). */
export function encodePeerBatch(
  batch: PeerBatch<AppCommand>,
  encoded: Map<PeerMessage<AppCommand>, string> = new Map(),
): string {
  const { frames, oversized } = encodeFrames(batch, Number.MAX_SAFE_INTEGER, encoded)
  assert(frames.length === 1 && oversized.length === 0, 'encodePeerBatch takes one frame of messages')
  return frames[0]!.pieces.join('').slice(0, -1)
}
