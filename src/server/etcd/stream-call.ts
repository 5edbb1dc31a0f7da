/**
 * A bidirectional etcd call (Watch, LeaseKeepAlive) as its handler sees it: responses sent
 * with backpressure (a send resolves once gRPC's buffer has room again, so a slow client slows
 * the sender instead of growing a queue), and one end, with OK or an etcd error's status. The
 * server hands the handler each decoded request and tells it when the call is over (the client
 * went away, or the server stops).
 * @module
 */
import type { ServerDuplexStream } from '@grpc/grpc-js'
import type { Decoded } from './decode.js'
import { EtcdError } from './etcd-errors.js'

export interface StreamCall {
  /** Resolves when the response is written and there is room for more (at once when the call ended). */
  send(response: object): Promise<void>
  /** Ends the call, OK or with `error`'s status and message; later calls do nothing. */
  end(error?: EtcdError): void
  /** Ends the call for a handler's failure: an EtcdError as its row; a bug crashes the node. */
  fail(error: unknown): void
  readonly ended: boolean
}

/** What a stream handler does with the call's requests and its end. */
export type StreamHandlers = Readonly<{
  /** A decoded request, and its bytes as the client encoded them (what a forward sends on). */
  request: (message: any, bytes: Uint8Array) => void
  /** The client sent its last request (it may still read responses). */
  requestsEnded?: () => void
  /** The call is over (the client cancelled or went away, or the server ended it); sends do nothing from now on. */
  closed: () => void
}>

export type StreamRun = (call: StreamCall) => StreamHandlers

export type EtcdStreamTable = Readonly<Record<string, StreamRun>>

/** Wires a gRPC duplex stream to a handler; `onEnd` hears once that it ended, however it did. */
export function runStream(call: string, stream: ServerDuplexStream<Decoded, object>, run: StreamRun, options: Readonly<{ onEnd: (adapter: StreamCall) => void; statusOf: (error: unknown) => Readonly<{ code: number; details: string }> }>): StreamCall {
  let ended = false
  let handlers: StreamHandlers | null = null
  const finish = (): void => {
    if (ended) return
    ended = true
    options.onEnd(adapter)
    handlers?.closed()
  }
  const adapter: StreamCall = {
    get ended() {
      return ended
    },
    send(response) {
      if (ended) return Promise.resolve()
      if (stream.write(response)) return Promise.resolve()
      return new Promise((resolve) => {
        const done = (): void => {
          stream.off('drain', done)
          stream.off('close', done)
          resolve()
        }
        stream.on('drain', done)
        stream.on('close', done)
      })
    },
    end(error) {
      if (ended) return
      if (error === undefined) stream.end()
      else stream.emit('error', { code: error.grpcStatus, details: error.message })
      finish()
    },
    fail(error) {
      if (ended) return
      stream.emit('error', options.statusOf(error))
      finish()
    },
  }
  stream.on('cancelled', finish)
  stream.on('close', finish)
  stream.on('error', () => finish())
  handlers = run(adapter)
  stream.on('data', (decoded: Decoded) => {
    if (ended) return
    if (!decoded.ok) return adapter.end(new EtcdError('bad_request', `undecodable ${call} request: ${decoded.error}`))
    handlers!.request(decoded.message, decoded.bytes)
  })
  stream.on('end', () => {
    if (!ended) handlers!.requestsEnded?.()
  })
  return adapter
}
