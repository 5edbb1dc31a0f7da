/**
 * The consensus receipt of a write as X-Paxos-* response headers. A field the leader did not
 * see (see Receipt) is left out rather than invented.
 * @module
 */
import { formatBallot } from '../core/ballot.js'
import type { Receipt } from './node-service.js'

export const receiptHeaderNames = ['x-paxos-slot', 'x-paxos-ballot', 'x-paxos-leader', 'x-paxos-quorum', 'x-paxos-commit-ms', 'x-paxos-fsync-ms'] as const

/** Milliseconds with microsecond precision at most: enough to read, short on the wire. */
function formatMs(ms: number): string {
  return String(Math.round(ms * 1000) / 1000)
}

export function receiptHeaders(receipt: Receipt): Record<string, string> {
  const headers: Record<string, string> = { 'x-paxos-slot': String(receipt.slot) }
  if (receipt.ballot !== null) headers['x-paxos-ballot'] = formatBallot(receipt.ballot)
  if (receipt.leader !== null) headers['x-paxos-leader'] = String(receipt.leader)
  if (receipt.quorum !== null) headers['x-paxos-quorum'] = receipt.quorum.join(',')
  if (receipt.commitMs !== null) headers['x-paxos-commit-ms'] = formatMs(receipt.commitMs)
  if (receipt.fsyncMs !== null) headers['x-paxos-fsync-ms'] = formatMs(receipt.fsyncMs)
  return headers
}
