/**
 * Deterministic one-line renderings of messages, values and state, for transcripts and
 * simulator traces. Changing a format changes checked-in transcripts: do it on purpose.
 * @module
 */
import { assertNever } from './assert.js'
import { formatBallot } from './ballot.js'
import type { Command, Value } from './command.js'
import type { Envelope, LogEntry, PeerMessage } from './messages.js'
import type { ReplicaStatus } from './replica-port.js'

export function describeCommand(command: Command): string {
  switch (command.type) {
    case 'noop':
      return 'noop'
    case 'put':
      return `put ${command.key}${command.cas === null ? '' : ` cas=${command.cas}`}`
    case 'delete':
      return `del ${command.key}${command.cas === null ? '' : ` cas=${command.cas}`}`
    case 'txn':
      return `txn ${command.compare.length}?${command.success.length}:${command.failure.length}`
    case 'lease-grant':
      return `lease-grant ${command.id} ttl=${command.ttlSeconds}`
    case 'lease-revoke':
      return `lease-revoke ${command.id}`
    case 'compact':
      return `compact ${command.revision}`
    default:
      return assertNever(command)
  }
}

export function describeValue(value: Value): string {
  return value.map(describeCommand).join('|')
}

function describeEntry(entry: LogEntry): string {
  return `${entry.slot}@${formatBallot(entry.ballot)}${entry.chosen ? '!' : ''} ${describeValue(entry.value)}`
}

export function describeMessage(message: PeerMessage): string {
  switch (message.type) {
    case 'prepare':
      return `prepare b=${formatBallot(message.ballot)} from=${message.fromSlot}`
    case 'promise':
      if (message.compactedThrough !== undefined) return `promise b=${formatBallot(message.ballot)} from=${message.fromSlot} compacted through=${message.compactedThrough}${message.more ? ' more' : ''}`
      return `promise b=${formatBallot(message.ballot)} from=${message.fromSlot} accepted=[${message.accepted.map(describeEntry).join(', ')}]${message.more ? ` more after ${message.throughSlot}` : ''}`
    case 'accept':
      return `accept b=${formatBallot(message.ballot)} first=${message.firstSlot} values=[${message.values.map(describeValue).join(', ')}] commit=${message.commitIndex}`
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
      return `chosen [${message.entries.map((entry) => `${entry.slot} ${describeValue(entry.value)}`).join(', ')}]`
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

export function describeEnvelope(envelope: Envelope): string {
  return `${envelope.from}→${envelope.to} ${describeMessage(envelope.message)}`
}

export function describeStatus(status: ReplicaStatus): string {
  const leader = status.leader === null ? '-' : String(status.leader)
  return `${status.id} ${status.role} leader=${leader} promised=${formatBallot(status.ballot)} commit=${status.commitIndex} applied=${status.appliedIndex}`
}
