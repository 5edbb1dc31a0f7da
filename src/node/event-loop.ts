/**
 * Drives the core on Node's event loop. One turn: step every queued peer envelope, tick for the
 * time that passed, then processReady (one SQLite transaction for the whole turn: group
 * commit). Client requests that arrive during one I/O phase are proposed before the next turn,
 * so they share a slot: batching comes from the loop itself, not from a timer.
 * @module
 */
import { limits } from '../core/limits.js'
import type { Envelope } from '../core/messages.js'
import type { ReplicaPort } from '../core/replica-port.js'
import type { SystemClock } from './clock.js'
import { processReady, type ReadyPorts } from './process-ready.js'
import type { WriteCommand } from '../kv/command.js'

export class EventLoop {
  readonly #replica: ReplicaPort<WriteCommand>
  readonly #ports: ReadyPorts
  readonly #clock: SystemClock
  readonly #tickMs: number
  readonly #onFatal: (error: unknown) => void
  #inbox: Envelope<WriteCommand>[] = []
  #scheduled = false
  #timer: NodeJS.Timeout | null = null
  #stopped = false

  constructor(options: { replica: ReplicaPort<WriteCommand>; ports: ReadyPorts; clock: SystemClock; tickMs: number; onFatal: (error: unknown) => void }) {
    this.#replica = options.replica
    this.#ports = options.ports
    this.#clock = options.clock
    this.#tickMs = options.tickMs
    this.#onFatal = options.onFatal
  }

  /**
   * Before serving: applies every chosen slot the replica already holds (a restart replays the
   * log after the snapshot here), so the node answers from the state it had, not an older one.
   */
  applyHeld(): void {
    while (processReady(this.#replica, this.#ports)) {
      // processReady stops after readyTurnsMax turns; a long log tail takes several rounds.
    }
  }

  start(): void {
    this.#timer = setInterval(() => this.schedule(), this.#tickMs)
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer !== null) clearInterval(this.#timer)
  }

  get inboxDepth(): number {
    return this.#inbox.length
  }

  /** Our own messages to ourselves: never refused, they are part of the protocol's own step. */
  loopback(envelopes: readonly Envelope<WriteCommand>[]): void {
    for (const envelope of envelopes) this.#inbox.push(envelope)
    this.schedule()
  }

  deliver(envelopes: readonly Envelope<WriteCommand>[]): 'queued' | 'overloaded' {
    if (this.#inbox.length + envelopes.length > limits.inboxEnvelopesMax) return 'overloaded'
    for (const envelope of envelopes) this.#inbox.push(envelope)
    this.schedule()
    return 'queued'
  }

  /** Runs a turn soon, after the I/O callbacks already queued (so they batch together). */
  schedule(): void {
    if (this.#scheduled || this.#stopped) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      try {
        this.#turn()
      } catch (error) {
        this.#onFatal(error)
      }
    })
  }

  #turn(): void {
    if (this.#stopped) return
    const inbox = this.#inbox
    this.#inbox = []
    // Messages first, then time: a follower that was busy hears the leader before it suspects it.
    for (const envelope of inbox) this.#replica.step(envelope)
    const ticks = this.#clock.takeTicks(limits.ticksPerTurnMax)
    for (let tick = 0; tick < ticks; tick += 1) this.#replica.tick()
    if (processReady(this.#replica, this.#ports) || this.#inbox.length > 0) this.schedule()
  }
}
