/**
 * The etcd v3 gRPC API on its own port (serve --etcd-port): KV, Maintenance and Cluster from our
 * .proto files. Every call is decoded without throwing, size-bounded by gRPC before it is read
 * (etcdRequestBytesMax), and answered from calls.ts or UNIMPLEMENTED; errors come from the one
 * table in etcd-errors.ts. A failed assertion is a bug: it crashes the node, never answers.
 * The port is a TCP listener whose connections reach gRPC through its connection injector,
 * after authority-repair.ts has looked at their first header block (etcd's Go client dials some
 * calls with an authority Node's HTTP/2 refuses).
 * @module
 */
import { createServer, type Server as TcpServer } from 'node:net'
import { logVerbosity, Server, ServerCredentials, setLogVerbosity, status as grpcStatus, type MethodDefinition, type ServerDuplexStream, type ServerUnaryCall, type ServiceDefinition, type sendUnaryData, type UntypedHandleCall, type UntypedServiceImplementation } from '@grpc/grpc-js'
import { AssertionError } from '../../core/assert.js'
import { acceptEtcdConnection } from './authority-repair.js'
import { limits } from '../../core/limits.js'
import type { NodeService } from '../node-service.js'
import { callName, type EtcdCallTable } from './calls.js'
import type { CallContext } from './context.js'
import { safeDecoder, type Decoded } from './decode.js'
import { etcdServiceNames, serviceDefinition, type EtcdServiceName } from './definitions.js'
import { EtcdError } from './etcd-errors.js'
import { runStream, type EtcdStreamTable, type StreamCall } from './stream-call.js'

export type EtcdServerOptions = Readonly<{
  node: NodeService
  calls: EtcdCallTable
  /** The bidirectional calls served (Watch, LeaseKeepAlive); other streams are UNIMPLEMENTED. */
  streams: EtcdStreamTable
  onFatal: (error: Error) => void
  onUnexpected?: (error: unknown) => void
}>

type GrpcError = Readonly<{ code: number; details: string }>

/** How a handler's failure reaches the client: an etcd error as its table row; a bug crashes. */
export function grpcErrorOf(error: unknown, onFatal: (error: Error) => void, onUnexpected?: (error: unknown) => void): GrpcError {
  if (error instanceof EtcdError) return { code: error.grpcStatus, details: error.message }
  if (error instanceof AssertionError) {
    onFatal(error)
    throw error
  }
  onUnexpected?.(error)
  return { code: grpcStatus.INTERNAL, details: 'etcdserver: internal error' }
}

// gRPC's own log goes to stderr in its own format; what matters of it reaches this code as
// errors (a failed bind, a failed call) and is logged, or reported, from here.
setLogVerbosity(logVerbosity.NONE)

export class EtcdServer {
  readonly #server = new Server({
    'grpc.max_receive_message_length': limits.etcdRequestBytesMax,
    // A client that sends nothing for this long is dropped (a half-open connection holds nothing).
    'grpc.keepalive_time_ms': 60_000,
  })
  readonly #options: EtcdServerOptions
  #listener: TcpServer | null = null
  /** Stream calls in progress: a stop ends them (they would otherwise hold the shutdown). */
  readonly #streams = new Set<StreamCall>()

  constructor(options: EtcdServerOptions) {
    this.#options = options
    for (const name of etcdServiceNames) this.#server.addService(this.#definition(name), this.#implementation(name))
  }

  /** Resolves with the bound port; rejects when the address cannot be bound. */
  start(host: string, port: number): Promise<number> {
    const injector = this.#server.createConnectionInjector(ServerCredentials.createInsecure())
    const listener = createServer((socket) => {
      socket.setNoDelay(true)
      acceptEtcdConnection(socket, (connection) => injector.injectConnection(connection))
    })
    this.#listener = listener
    return new Promise((resolve, reject) => {
      listener.once('error', reject)
      listener.listen(port, host, () => {
        listener.off('error', reject)
        // Past the bind, a failed accept (out of descriptors) is the listener's only error.
        listener.on('error', (error) => this.#options.onUnexpected?.(error))
        const address = listener.address()
        resolve(typeof address === 'object' && address !== null ? address.port : port)
      })
    })
  }

  /** Stops taking calls; calls still running are cut after a short grace. */
  async stop(): Promise<void> {
    this.#listener?.close()
    for (const stream of [...this.#streams]) stream.end(new EtcdError('stream_closed', 'the member is stopping'))
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.#server.forceShutdown()
        resolve()
      }, 1000)
      this.#server.tryShutdown(() => {
        clearTimeout(force)
        resolve()
      })
    })
  }

  /** The service as the definitions give it, with requests decoded without throwing. */
  #definition(name: EtcdServiceName): ServiceDefinition {
    const service = serviceDefinition(name)
    return Object.fromEntries(Object.entries(service).map(([method, definition]) => [method, { ...definition, requestDeserialize: safeDecoder(definition as MethodDefinition<object, object>) }]))
  }

  #implementation(name: EtcdServiceName): UntypedServiceImplementation {
    const service = serviceDefinition(name)
    const implementation: Record<string, UntypedHandleCall> = {}
    for (const [method, definition] of Object.entries(service)) {
      const call = callName(name, method)
      const run = this.#options.calls[call]
      if (definition.requestStream || definition.responseStream) {
        const stream = this.#options.streams[call]
        implementation[method] = (stream === undefined || !definition.requestStream || !definition.responseStream
          ? (unserved: { emit: (event: 'error', error: GrpcError) => void }) => unserved.emit('error', unimplemented(call))
          : (duplex: ServerDuplexStream<Decoded, object>) => this.#runStream(call, duplex, stream)) as UntypedHandleCall
        continue
      }
      implementation[method] = (run === undefined
        ? (_call: unknown, callback: sendUnaryData<object>) => callback(unimplemented(call))
        : (unary: ServerUnaryCall<Decoded, object>, callback: sendUnaryData<object>) => this.#runUnary(call, run, unary, callback)) as UntypedHandleCall
    }
    return implementation
  }

  #runStream(call: string, duplex: ServerDuplexStream<Decoded, object>, run: EtcdStreamTable[string]): void {
    const started = runStream(call, duplex, run, {
      onEnd: (ended) => this.#streams.delete(ended),
      statusOf: (error) => grpcErrorOf(error, this.#options.onFatal, this.#options.onUnexpected),
    })
    if (!started.ended) this.#streams.add(started)
  }

  #runUnary(call: string, run: EtcdCallTable[string], unary: ServerUnaryCall<Decoded, object>, callback: sendUnaryData<object>): void {
    const decoded = unary.request
    if (!decoded.ok) {
      callback({ code: grpcStatus.INVALID_ARGUMENT, details: `etcdserver: bad request: undecodable ${call} request: ${decoded.error}` })
      return
    }
    const context: CallContext = { forwarded: null, clientDeadline: this.#clientDeadline(unary), requestBytes: decoded.bytes }
    Promise.resolve()
      .then(() => run(decoded.message, context))
      .then(
        (response) => callback(null, response),
        (error: unknown) => callback(grpcErrorOf(error, this.#options.onFatal, this.#options.onUnexpected)),
      )
  }

  /** The client's deadline (gRPC carries it on the wall clock) on the node's monotonic clock. */
  #clientDeadline(unary: ServerUnaryCall<Decoded, object>): number {
    const deadline = unary.getDeadline()
    const atWallMs = typeof deadline === 'number' ? deadline : deadline.getTime()
    if (!Number.isFinite(atWallMs)) return Number.POSITIVE_INFINITY
    const node = this.#options.node
    return node.nowMs() + (atWallMs - node.wallMs())
  }
}

function unimplemented(call: string): GrpcError {
  return { code: grpcStatus.UNIMPLEMENTED, details: `${new EtcdError('unimplemented').message}: ${call}` }
}
