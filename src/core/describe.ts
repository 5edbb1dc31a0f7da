/**
 * Deterministic one-line renderings of messages, values and state, for transcripts and
 * simulator traces. Changing a format changes checked-in transcripts: do it on purpose. The
 * application renders its own commands (`describeCommand`).
 * @module
 */
import { assertNever } from './assert.js'
import { formatBallot } from './ballot.js'
import { isCoreEntry, type AppCommand, type Entry, type Value } from './command.js'
import type { Envelope, LogEntry, PeerMessage } from './messages.js'
import type { ReplicaStatus } from './replica-port.js'

export type DescribeCommand<C extends AppCommand> = (command: C) => string

function describeEntryOfValue<C extends AppCommand>(entry: Entry<C>, describeCommand: DescribeCommand<C>): string {
  return isCoreEntry(entry) ? entry.type : describeCommand(entry)
}

export function describeValue<C extends AppCommand>(value: Value<C>, describeCommand: DescribeCommand<C>): string {
  return value.map((entry) => describeEntryOfValue(entry, describeCommand)).join('|')
}

function describeEntry<C extends AppCommand>(entry: LogEntry<C>, describeCommand: DescribeCommand<C>): string {
  return `${entry.slot}@${formatBallot(entry.ballot)}${entry.chosen ? '!' : ''} ${describeValue(entry.value, describeCommand)}`
}

export function describeMessage<C extends AppCommand>(message: PeerMessage<C>, describeCommand: DescribeCommand<C>): string {
  switch (message.type) {
    case 'prepare':
      return `prepare b=${formatBallot(message.ballot)} from=${message.fromSlot}`
    case 'promise':
      if (message.compactedThrough !== undefined) return `promise b=${formatBallot(message.ballot)} from=${message.fromSlot} compacted through=${message.compactedThrough}${message.more ? ' more' : ''}`
      return `promise b=${formatBallot(message.ballot)} from=${message.fromSlot} accepted=[${message.accepted.map((entry) => describeEntry(entry, describeCommand)).join(', ')}]${message.more ? ` more after ${message.throughSlot}` : ''}`
    case 'accept':
      return `accept b=${formatBallot(message.ballot)} first=${message.firstSlot} values=[${message.values.map((value) => describeValue(value, describeCommand)).join(', ')}] commit=${message.commitIndex}`
    case 'accepted':
      return `accepted b=${formatBallot(message.ballot)} slots=${message.firstSlot}..${message.lastSlot}`
    case 'reject':
      return `reject b=${formatBallot(message.ballot)} promised=${formatBallot(message.promised)}`
    case 'heartbeat':
      return `heartbeat b=${formatBallot(message.ballot)} commit=${message.commitIndex} round=${message.readRound}`
    case 'heartbeat-ack':
      return `heartbeat-ack b=${formatBallot(message.ballot)} round=${message.readRound}`
    case 'catch-up':
      return `catch-up from=${message.fromSlot}`
    case 'chosen':
      return `chosen [${message.entries.map((entry) => `${entry.slot} ${describeValue(entry.value, describeCommand)}`).join(', ')}]`
    case 'compacted':
      return `compacted through=${message.through}`
    case 'pre-vote':
      return `pre-vote b=${formatBallot(message.ballot)} commit=${message.commitIndex}`
    case 'pre-vote-reply':
      return `pre-vote-reply b=${formatBallot(message.ballot)} ${message.granted ? 'granted' : 'refused'} promised=${formatBallot(message.promised)}`
    default:
      return assertNever(message)
  }
}

export function describeEnvelope<C extends AppCommand>(envelope: Envelope<C>, describeCommand: DescribeCommand<C>): string {
  return `${envelope.from}→${envelope.to} ${describeMessage(envelope.message, describeCommand)}`
}

export function describeStatus(status: ReplicaStatus): string {
  const leader = status.leader === null ? '-' : String(status.leader)
  return `${status.id} ${status.role} leader=${leader} promised=${formatBallot(status.ballot)} commit=${status.commitIndex} applied=${status.appliedIndex}`
}
