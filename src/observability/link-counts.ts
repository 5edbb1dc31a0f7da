/**
 * Peer messages per directed link and type, cumulative: one increment per envelope, so that
 * counting costs next to nothing at any message rate. Keys are the other node's id.
 * @module
 */
import type { AppCommand } from '../core/command.js'
import type { NodeId } from '../core/ids.js'
import type { Envelope } from '../core/messages.js'
import type { LiveLinks } from './live-frame.js'

export class LinkCounts {
  readonly #counts = new Map<NodeId, Map<string, number>>()

  add(other: NodeId, type: string, count = 1): void {
    let byType = this.#counts.get(other)
    if (byType === undefined) this.#counts.set(other, (byType = new Map()))
    byType.set(type, (byType.get(type) ?? 0) + count)
  }

  sent(envelopes: readonly Envelope<AppCommand>[]): void {
    for (const envelope of envelopes) this.add(envelope.to, envelope.message.type)
  }

  received(envelopes: readonly Envelope<AppCommand>[]): void {
    for (const envelope of envelopes) this.add(envelope.from, envelope.message.type)
  }

  snapshot(): LiveLinks {
    const links: Record<string, Record<string, number>> = {}
    for (const [other, byType] of this.#counts) links[String(other)] = Object.fromEntries(byType)
    return links
  }
}
