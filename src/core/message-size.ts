/**
 * Upper bounds of the encoded size of messages, in UTF-8 bytes of their JSON: the byte bounds
 * are enforced on these where messages are built (a test holds each to be an upper bound of
 * `JSON.stringify`). Numbers are counted at their widest, text at its most escaped; a command's
 * bound is the application's (CommandPort.bytes).
 * @module
 */
import { assertNever } from './assert.js'
import { entryValueBytes, type AppCommand, type CommandPort, type Value } from './command.js'
import { entryOverheadBytes, messageOverheadBytes } from './limits.js'
import type { ChosenEntry, LogEntry, PeerMessage } from './messages.js'

/** The size estimates of values, entries and messages that carry the commands of one port. */
export class MessageSizes<C extends AppCommand> {
  readonly #commands: CommandPort<C>

  constructor(commands: CommandPort<C>) {
    this.#commands = commands
  }

  valueBytes(value: Value<C>): number {
    let bytes = 2
    for (const entry of value) bytes += entryValueBytes(this.#commands, entry) + 1
    return bytes
  }

  /** A log entry or a chosen entry: its value plus the slot, ballot and flag around it. */
  entryBytes(entry: LogEntry<C> | ChosenEntry<C>): number {
    return entryOverheadBytes + this.valueBytes(entry.value)
  }

  messageBytes(message: PeerMessage<C>): number {
    switch (message.type) {
      case 'promise':
        return messageOverheadBytes + sum(message.accepted, (entry) => this.entryBytes(entry))
      case 'accept':
        return messageOverheadBytes + sum(message.values, (value) => this.valueBytes(value))
      case 'chosen':
        return messageOverheadBytes + sum(message.entries, (entry) => this.entryBytes(entry))
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
}

function sum<T>(items: readonly T[], sizeOf: (item: T) => number): number {
  let bytes = 0
  for (const item of items) bytes += sizeOf(item) + 1
  return bytes
}
