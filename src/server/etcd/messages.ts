/**
 * The etcd messages paxos-kv reads and writes, as the definitions decode them (int64 and uint64
 * as decimal strings, bytes as Buffers, enums as names, every field present). Responses are
 * encoded from the same shapes (numbers are accepted for integers there).
 * @module
 */

export type Int64 = string

export type ResponseHeader = Readonly<{ cluster_id: string; member_id: string; revision: string; raft_term: string }>

export type KeyValue = Readonly<{
  key: Uint8Array
  create_revision: string
  mod_revision: string
  version: string
  value: Uint8Array
  lease: string
}>

export type RangeRequest = Readonly<{
  key: Buffer
  range_end: Buffer
  limit: Int64
  revision: Int64
  sort_order: 'NONE' | 'ASCEND' | 'DESCEND'
  sort_target: 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE'
  serializable: boolean
  keys_only: boolean
  count_only: boolean
  min_mod_revision: Int64
  max_mod_revision: Int64
  min_create_revision: Int64
  max_create_revision: Int64
}>

export type RangeResponse = Readonly<{ header: ResponseHeader; kvs: readonly KeyValue[]; more: boolean; count: string }>

export type PutRequest = Readonly<{ key: Buffer; value: Buffer; lease: Int64; prev_kv: boolean; ignore_value: boolean; ignore_lease: boolean }>

export type PutResponse = Readonly<{ header: ResponseHeader; prev_kv: KeyValue | null }>

export type DeleteRangeRequest = Readonly<{ key: Buffer; range_end: Buffer; prev_kv: boolean }>

export type DeleteRangeResponse = Readonly<{ header: ResponseHeader; deleted: string; prev_kvs: readonly KeyValue[] }>

export type StatusResponse = Readonly<{
  header: ResponseHeader
  version: string
  dbSize: string
  leader: string
  raftIndex: string
  raftTerm: string
  raftAppliedIndex: string
  errors: readonly string[]
  dbSizeInUse: string
  isLearner: boolean
}>

export type AlarmRequest = Readonly<{ action: 'GET' | 'ACTIVATE' | 'DEACTIVATE'; memberID: string; alarm: string }>

export type AlarmResponse = Readonly<{ header: ResponseHeader; alarms: readonly Readonly<{ memberID: string; alarm: string }>[] }>

export type Member = Readonly<{ ID: string; name: string; peerURLs: readonly string[]; clientURLs: readonly string[]; isLearner: boolean }>

export type MemberListResponse = Readonly<{ header: ResponseHeader; members: readonly Member[] }>

/** A compare's operand is in the member of target_union its target names (absent when unset). */
export type Compare = Readonly<{
  result: 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL'
  target: 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE'
  key: Buffer
  version?: Int64
  create_revision?: Int64
  mod_revision?: Int64
  value?: Buffer
  lease?: Int64
  range_end: Buffer
}>

export type RequestOp = Readonly<{
  request?: 'request_range' | 'request_put' | 'request_delete_range' | 'request_txn'
  request_range?: RangeRequest
  request_put?: PutRequest
  request_delete_range?: DeleteRangeRequest
  request_txn?: TxnRequest
}>

export type ResponseOp = Readonly<{ response_range: RangeResponse }> | Readonly<{ response_put: PutResponse }> | Readonly<{ response_delete_range: DeleteRangeResponse }>

export type TxnRequest = Readonly<{ compare: readonly Compare[]; success: readonly RequestOp[]; failure: readonly RequestOp[] }>

export type TxnResponse = Readonly<{ header: ResponseHeader; succeeded: boolean; responses: readonly ResponseOp[] }>

export type WatchCreateRequest = Readonly<{
  key: Buffer
  range_end: Buffer
  start_revision: Int64
  progress_notify: boolean
  filters: readonly ('NOPUT' | 'NODELETE')[]
  prev_kv: boolean
  watch_id: Int64
  fragment: boolean
}>

export type WatchRequest = Readonly<{
  request_union?: 'create_request' | 'cancel_request' | 'progress_request'
  create_request?: WatchCreateRequest
  cancel_request?: Readonly<{ watch_id: Int64 }>
  progress_request?: Readonly<Record<string, never>>
}>

export type WatchEvent = Readonly<{ type: 'PUT' | 'DELETE'; kv: KeyValue; prev_kv: KeyValue | null }>

export type WatchResponse = Readonly<{
  header: ResponseHeader
  watch_id: Int64
  created?: boolean
  canceled?: boolean
  compact_revision?: Int64
  cancel_reason?: string
  fragment?: boolean
  events?: readonly WatchEvent[]
}>

export type LeaseGrantRequest = Readonly<{ TTL: Int64; ID: Int64 }>
export type LeaseGrantResponse = Readonly<{ header: ResponseHeader; ID: Int64; TTL: Int64; error: string }>
export type LeaseRevokeRequest = Readonly<{ ID: Int64 }>
export type LeaseRevokeResponse = Readonly<{ header: ResponseHeader }>
export type LeaseKeepAliveRequest = Readonly<{ ID: Int64 }>
export type LeaseKeepAliveResponse = Readonly<{ header: ResponseHeader; ID: Int64; TTL: Int64 }>
export type LeaseTimeToLiveRequest = Readonly<{ ID: Int64; keys: boolean }>
export type LeaseTimeToLiveResponse = Readonly<{ header: ResponseHeader; ID: Int64; TTL: Int64; grantedTTL: Int64; keys: readonly Uint8Array[] }>
export type LeaseLeasesResponse = Readonly<{ header: ResponseHeader; leases: readonly Readonly<{ ID: Int64 }>[] }>

export type CompactionRequest = Readonly<{ revision: Int64; physical: boolean }>
export type CompactionResponse = Readonly<{ header: ResponseHeader }>
