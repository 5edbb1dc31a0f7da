/**
 * Request decoding that never throws: a request gRPC cannot decode is answered
 * INVALID_ARGUMENT by the handler (gRPC's own would be INTERNAL), and the request's bytes are
 * kept for a forward to the leader.
 * @module
 */
import type { MethodDefinition } from '@grpc/grpc-js'

export type Decoded = Readonly<{ ok: true; message: object; bytes: Uint8Array }> | Readonly<{ ok: false; error: string }>

export function safeDecoder(method: MethodDefinition<object, object>): (bytes: Buffer) => Decoded {
  return (bytes) => {
    try {
      // A copy: gRPC may reuse the buffer it decoded from before a forward sends these bytes on.
      return { ok: true, message: method.requestDeserialize(bytes), bytes: new Uint8Array(bytes) }
    } catch (error) {
      return { ok: false, error: (error as Error).message.split('\n')[0] ?? 'undecodable' }
    }
  }
}
