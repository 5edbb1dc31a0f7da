/**
 * The node's live feed (GET /v1/events): a LiveRecorder fed by the node, read out as one frame
 * every `liveFrameMs` and fanned out, serialized once, to at most `liveSubscribersMax`
 * subscribers with bounded queues. With nobody subscribed no frame is built.
 * @module
 */
import { limits } from '../core/limits.js'
import type { NodeId } from '../core/ids.js'
import { FanOut } from '../observability/fan-out.js'
import { LiveRecorder, type FrameInputs } from '../observability/live-recorder.js'
import type { LiveSubscription } from '../server/node-service.js'

export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

export class LiveFeed {
  readonly recorder = new LiveRecorder()
  readonly #fanOut = new FanOut<string>({ subscribersMax: limits.liveSubscribersMax, queueMax: limits.liveQueueFramesMax })
  readonly #self: NodeId
  /** The members now (the configuration in force changes them), for each new subscriber's hello. */
  readonly #members: () => readonly NodeId[]
  readonly #inputs: () => FrameInputs
  #timer: NodeJS.Timeout | null = null

  constructor(options: Readonly<{ self: NodeId; members: () => readonly NodeId[]; inputs: () => FrameInputs }>) {
    this.#self = options.self
    this.#members = options.members
    this.#inputs = options.inputs
  }

  start(): void {
    this.#timer = setInterval(() => this.publishFrame(), limits.liveFrameMs)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#fanOut.closeAll()
  }

  /** Null when the subscriber limit is reached. */
  subscribe(): LiveSubscription | null {
    const frames = this.#fanOut.subscribe()
    if (frames === null) return null
    const hello = { id: this.#self, members: this.#members(), frameMs: limits.liveFrameMs, roleChanges: this.recorder.history(), atMs: this.#inputs().atMs }
    return { hello: sseEvent('hello', hello), frames }
  }

  publishFrame(): void {
    if (this.#fanOut.size === 0) return
    this.#fanOut.publish(sseEvent('frame', this.recorder.frame(this.#inputs())))
  }
}
