/**
 * Message and frame sizes: every message a node sends must be within the run's byte bounds
 * (messageBytesMax by the core's own estimate, and its real encoding within one frame), and the
 * estimate must be an upper bound of the real encoding. The production transport would refuse
 * (and only count) a message too large for a frame; here it fails the run, so a message the
 * core failed to cut is a seed with a replay command, not a silent drop.
 */
import { frameOverheadBytes, MessageSizes, type ByteLimits, type Envelope } from '../../../src/core/index.js'
import { kvCommands, type WriteCommand } from '../../../src/kv/command.js'

const sizes = new MessageSizes(kvCommands)

export class MessageSizeChecker {
  readonly #bounds: ByteLimits
  readonly violations: string[] = []
  /** The largest estimate seen, for the run's summary. */
  largestBytes = 0

  constructor(bounds: ByteLimits) {
    this.#bounds = bounds
  }

  sent(envelopes: readonly Envelope<WriteCommand>[], tick: number): void {
    for (const { from, to, message } of envelopes) {
      const estimated = sizes.messageBytes(message)
      if (estimated > this.largestBytes) this.largestBytes = estimated
      // Encoding every message would double the run's time; the estimate's upper bound is
      // tested on its own (message-size.test.ts), so only the large ones are encoded here.
      const encoded = estimated * 2 > this.#bounds.frameBytesMax ? Buffer.byteLength(JSON.stringify(message)) : 0
      const problem = encoded > estimated ? `encodes to ${encoded} bytes, over its estimate of ${estimated}`
        : estimated > this.#bounds.messageBytesMax ? `is ${estimated} bytes by estimate, over messageBytesMax ${this.#bounds.messageBytesMax}`
          : encoded + frameOverheadBytes > this.#bounds.frameBytesMax ? `encodes to ${encoded} bytes: no frame of ${this.#bounds.frameBytesMax} holds it`
            : null
      if (problem !== null && this.violations.length < 3) this.violations.push(`message-sizes: at tick ${tick} node ${from}→${to} ${message.type} ${problem}`)
    }
  }
}
