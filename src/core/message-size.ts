/**
 * Upper bounds of the encoded size of messages, in UTF-8 bytes of their JSON: the byte bounds
 * are enforced on these where messages are built (a test holds each to be an upper bound of
 * `JSON.stringify`). Numbers are counted at their widest, text at its most escaped.
 * @module
 */
import { assertNever } from './assert.js'
import { commandBytes, type Value } from './command.js'
import { entryOverheadBytes, messageOverheadBytes } from './limits.js'
import type { ChosenEntry, LogEntry, PeerMessage } from './messages.js'

export function valueBytes(value: Value): number {
  let bytes = 2
  for (const command of value) bytes += commandBytes(command) + 1
  return bytes
}

/** A log entry or a chosen entry: its value plus the slot, ballot and flag around it. */
export function entryBytes(entry: LogEntry | ChosenEntry): number {
  return entryOverheadBytes + valueBytes(entry.value)
}

export function messageBytes(message: PeerMessage): number {
  switch (message.type) {
    case 'promise':
      return messageOverheadBytes + sum(message.accepted, entryBytes)
    case 'accept':
      return messageOverheadBytes + sum(message.values, valueBytes)
    case 'chosen':
      return messageOverheadBytes + sum(message.entries, entryBytes)
    case 'prepare':
    case 'accepted':
    case 'reject':
    case 'heartbeat':
    case 'heartbeat-ack':
    case 'catch-up':
    case 'compacted':
    case 'pre-vote':
    case 'pre-vote-reply':
      return messageOverheadBytes
    default:
      return assertNever(message)
  }
}

/**
 * How many of `items`, from the front, fit in `bytesMax` together with what is already used:
 * at least one, so that a maximal item (which the limits' cross-checks make fit) always moves.
 */
export function countWithinBytes<T>(items: readonly T[], sizeOf: (item: T) => number, bytesMax: number, usedBytes = 0): number {
  let bytes = usedBytes
  let count = 0
  for (const item of items) {
    bytes += sizeOf(item) + 1
    if (count > 0 && bytes > bytesMax) break
    count += 1
  }
  return count
}

function sum<T>(items: readonly T[], sizeOf: (item: T) => number): number {
  let bytes = 0
  for (const item of items) bytes += sizeOf(item) + 1
  return bytes
}
