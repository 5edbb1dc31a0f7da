/**
 * The one closed table from the etcd API's error codes to gRPC statuses, with etcd 3.4's own
 * messages where etcd has one (clients match on them: "etcdserver: requested lease not found"
 * is how a client library tells a lost lease), so an etcd client reads our errors as etcd's.
 * @module
 */

/** gRPC's status codes (a fact of the protocol), here so that this table loads without gRPC. */
export const grpcStatus = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  FAILED_PRECONDITION: 9,
  RESOURCE_EXHAUSTED: 8,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const

export const etcdErrorTable = {
  empty_key: { status: grpcStatus.INVALID_ARGUMENT, message: 'etcdserver: key is not provided' },
  bad_request: { status: grpcStatus.INVALID_ARGUMENT, message: 'etcdserver: bad request' },
  too_large: { status: grpcStatus.INVALID_ARGUMENT, message: 'etcdserver: request is too large' },
  too_many_ops: { status: grpcStatus.INVALID_ARGUMENT, message: 'etcdserver: too many operations in txn request' },
  duplicate_key: { status: grpcStatus.INVALID_ARGUMENT, message: 'etcdserver: duplicate key given in txn request' },
  lease_not_found: { status: grpcStatus.NOT_FOUND, message: 'etcdserver: requested lease not found' },
  lease_exists: { status: grpcStatus.FAILED_PRECONDITION, message: 'etcdserver: lease already exists' },
  lease_ttl_too_large: { status: grpcStatus.OUT_OF_RANGE, message: 'etcdserver: too large lease TTL' },
  compacted: { status: grpcStatus.OUT_OF_RANGE, message: 'etcdserver: mvcc: required revision has been compacted' },
  future_revision: { status: grpcStatus.OUT_OF_RANGE, message: 'etcdserver: mvcc: required revision is a future revision' },
  quota_exceeded: { status: grpcStatus.RESOURCE_EXHAUSTED, message: 'etcdserver: mvcc: database space exceeded' },
  overloaded: { status: grpcStatus.RESOURCE_EXHAUSTED, message: 'etcdserver: too many requests' },
  no_leader: { status: grpcStatus.UNAVAILABLE, message: 'etcdserver: no leader' },
  /** Proposed, or forwarded, and not confirmed in time: the outcome is unknown. */
  timeout: { status: grpcStatus.UNAVAILABLE, message: 'etcdserver: request timed out' },
  /**
   * The member ended a stream (a leader change ends watches, as the HTTP API's; or it stops):
   * UNAVAILABLE, so clients resume elsewhere. Not etcd's "no leader", on which clients give up.
   */
  stream_closed: { status: grpcStatus.UNAVAILABLE, message: 'etcdserver: stream closed by the member' },
  /** A watch stream's or keepalive stream's requests came faster than they are answered. */
  stream_overrun: { status: grpcStatus.RESOURCE_EXHAUSTED, message: 'etcdserver: too many requests' },
  unimplemented: { status: grpcStatus.UNIMPLEMENTED, message: 'etcdserver: not served by paxos-kv' },
} as const

export type EtcdErrorCode = keyof typeof etcdErrorTable

export function isEtcdErrorCode(text: string): text is EtcdErrorCode {
  return Object.hasOwn(etcdErrorTable, text)
}

/** An expected failure of an etcd call: answered with its table row, never a crash. */
export class EtcdError extends Error {
  override name = 'EtcdError'
  readonly code: EtcdErrorCode

  /** `detail`, when given, follows etcd's message after ": " (clients match on the start). */
  constructor(code: EtcdErrorCode, detail?: string) {
    super(detail === undefined ? etcdErrorTable[code].message : `${etcdErrorTable[code].message}: ${detail}`)
    this.code = code
  }

  /** An error the leader answered a forwarded call with, as it worded it. */
  static relayed(code: EtcdErrorCode, message: string): EtcdError {
    const error = new EtcdError(code)
    error.message = message
    return error
  }

  get grpcStatus(): number {
    return etcdErrorTable[this.code].status
  }
}
