/**
 * The one-way message port. The node sends through StreamTransport; the simulator through its
 * own network. Either may drop anything: Paxos re-sends what matters.
 * @module
 */
import type { AppCommand } from '../core/command.js'
import type { Envelope } from '../core/messages.js'

/** Generic over the commands it carries; the stream transport carries any as JSON. */
export interface Transport<C extends AppCommand> {
  send(envelopes: readonly Envelope<C>[]): void
  close(): Promise<void>
}

/**
 * Cumulative counts, for metrics. `oversized`: messages not sent because no frame could hold
 * them (never expected: the core bounds every message below the frame limit).
 */
export type TransportCounters = { sent: number; dropped: number; failures: number; batches: number; oversized: number }

/** Headers every peer request carries. */
export const peerHeaders = {
  secret: 'x-paxos-secret',
  cluster: 'x-paxos-cluster',
} as const
