/**
 * The real EtcdServer on 127.0.0.1 over a FakeNode, for the etcd route tests: the served calls
 * and streams as a node builds them, an etcd3 client on it, and a raw client for requests no
 * library sends. Everything started is stopped by `stopAll` (call it in afterEach).
 */
import { Client, credentials, makeGenericClientConstructor, Metadata, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js'
import { Etcd3 } from 'etcd3'
import { nodeId } from '../../../src/core/index.js'
import { servedCalls, servedStreams } from '../../../src/server/etcd/calls.js'
import { methodDefinition, serviceDefinition, type EtcdServiceName } from '../../../src/server/etcd/definitions.js'
import { EtcdServer } from '../../../src/server/etcd/etcd-server.js'
import { MemberEndpoints } from '../../../src/server/etcd/member-endpoints.js'
import { FakeNode } from '../fake-node.js'

export const valueBytesMax = 1024
const cleanups: Array<() => Promise<void> | void> = []

export async function stopAll(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
}

export function onStop(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup)
}

export async function startEtcd(node = new FakeNode()): Promise<{ node: FakeNode; endpoint: string; client: Etcd3; server: EtcdServer }> {
  const deps = { node, secret: 'etcd-route-secret', clusterId: 'c1', requestTimeoutMs: 2000, valueBytesMax }
  const members = () => [{ id: nodeId(1), url: 'http://127.0.0.1:9', learner: false }]
  const server = new EtcdServer({
    node,
    calls: servedCalls({ ...deps, members, selfEtcdUrl: 'http://127.0.0.1:2379', endpoints: new MemberEndpoints() }),
    streams: servedStreams(deps),
    onFatal: (error) => { throw error },
  })
  const port = await server.start('127.0.0.1', 0)
  const endpoint = `127.0.0.1:${port}`
  // The client retries only UNAVAILABLE, which these tests do not expect.
  const client = new Etcd3({ hosts: endpoint })
  cleanups.push(() => server.stop(), () => client.close())
  return { node, endpoint, client, server }
}

/** One call with raw request bytes, answered with the raw response bytes or the gRPC error. */
export function rawCall(endpoint: string, path: string, bytes: Uint8Array): Promise<{ error: ServiceError | null; response: Buffer | null }> {
  const client = new Client(endpoint, credentials.createInsecure())
  cleanups.push(() => client.close())
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (body: Buffer) => body, (body: Buffer) => body, Buffer.from(bytes), new Metadata(), (error, response) => resolve({ error: error ?? null, response: response ?? null }))
  })
}

export function encode(service: EtcdServiceName, method: string, request: object): Buffer {
  return methodDefinition(service, method).requestSerialize(request)
}

/**
 * A bidirectional call through our own definitions: requests written as objects, responses
 * collected in order; `next()` waits for the next one (or the call's end, as its status).
 */
export class RawStream<T = Record<string, unknown>> {
  readonly #stream: ClientDuplexStream<object, T>
  readonly #received: T[] = []
  #waiter: (() => void) | null = null
  ended: { code: number; details: string } | null = null

  constructor(endpoint: string, service: EtcdServiceName, method: string) {
    const Constructor = makeGenericClientConstructor(serviceDefinition(service), service)
    const client = new Constructor(endpoint, credentials.createInsecure()) as unknown as Record<string, () => ClientDuplexStream<object, T>> & Client
    cleanups.push(() => client.close())
    this.#stream = client[method]!.call(client)
    cleanups.push(() => this.#stream.cancel())
    this.#stream.on('data', (response: T) => {
      this.#received.push(response)
      this.#wake()
    })
    this.#stream.on('error', (error: ServiceError) => {
      this.ended = { code: error.code, details: error.details }
      this.#wake()
    })
    this.#stream.on('end', () => {
      this.ended ??= { code: 0, details: 'OK' }
      this.#wake()
    })
  }

  write(request: object): void {
    this.#stream.write(request)
  }

  /** The raw stream, to pause reading (a slow consumer) or write bytes of its own. */
  get stream(): ClientDuplexStream<object, T> {
    return this.#stream
  }

  async next(timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    while (this.#received.length === 0) {
      if (this.ended !== null) throw new Error(`the stream ended: ${this.ended.code} ${this.ended.details}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error('no response in time')
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#waiter = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    return this.#received.shift()!
  }

  /** Waits for the end of the call and returns its status. */
  async end(timeoutMs = 5000): Promise<{ code: number; details: string }> {
    const deadline = Date.now() + timeoutMs
    while (this.ended === null) {
      if (Date.now() > deadline) throw new Error('the stream did not end in time')
      this.#received.splice(0)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50)
        this.#waiter = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    return this.ended
  }

  /** Responses received and not yet taken. */
  get pending(): number {
    return this.#received.length
  }

  #wake(): void {
    const waiter = this.#waiter
    this.#waiter = null
    waiter?.()
  }
}
