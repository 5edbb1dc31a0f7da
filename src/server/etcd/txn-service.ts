/**
 * etcd's KV.Txn over the node's txn (one command at one revision, or a read barrier and the
 * local state when no branch writes), and the Put and DeleteRange forms that need one: a Put
 * or a one-key delete with prev_kv reads the key in the same txn, a range delete is a prefix
 * delete. The semantics are the state machine's (src/kv/txn.ts); this file translates etcd's
 * messages to a TxnSpec and its results back, op by op.
 * @module
 */
import { AssertionError } from '../../core/assert.js'
import type { CompareOperator, TxnCompare, TxnOp, TxnSpec } from '../../kv/command.js'
import { limits } from '../../core/limits.js'
import { txnWrites } from '../../kv/txn-rules.js'
import type { KeyRange } from '../../kv/key-range.js'
import type { TxnOpResult, TxnResult } from '../../kv/state-machine.js'
import type { ReadBarrierOutcome, WriteOutcome } from '../node-service.js'
import { txnProblem, type TxnProblem } from '../txn-check.js'
import { responseHeader, type CallContext, type EtcdDeps } from './context.js'
import { EtcdError, type EtcdErrorCode } from './etcd-errors.js'
import { int64, leaseOf } from './integers.js'
import { keySelection, writeKey } from './keys.js'
import { appliedWrite, keyValue } from './kv-answers.js'
import { sortItems, sortOf, type Sort } from './sort.js'
import { onLeader, type ForwardableCall } from './leader.js'
import type { Compare, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, ResponseOp, TxnRequest, TxnResponse } from './messages.js'

/** How one etcd op's answer is built from the results of the TxnOps it became. */
type Shape =
  /** `sort`: the order to answer in (null: key order), and `limit` the answer's (0: none), applied after it. */
  | Readonly<{ type: 'range'; keysOnly: boolean; countOnly: boolean; range: KeyRange | null; sort: Sort | null; limit: number }>
  | Readonly<{ type: 'put'; prevKv: boolean }>
  | Readonly<{ type: 'delete'; prevKv: boolean }>

export type Translated = Readonly<{ ops: TxnOp[]; shapes: Shape[] }>

const operators: Readonly<Record<Compare['result'], CompareOperator>> = { EQUAL: '=', NOT_EQUAL: '!=', GREATER: '>', LESS: '<' }

function compareOf(compare: Compare): TxnCompare {
  if (compare.range_end.byteLength > 0) throw new EtcdError('unimplemented', 'a Txn compare over a range is not served')
  const key = writeKey(compare.key)
  const op = operators[compare.result]
  switch (compare.target) {
    case 'VERSION':
      return { key, target: 'writes', op, value: int64(compare.version ?? '0', 'compare version') }
    case 'CREATE':
      return { key, target: 'createRevision', op, value: int64(compare.create_revision ?? '0', 'compare create_revision') }
    case 'MOD':
      return { key, target: 'version', op, value: int64(compare.mod_revision ?? '0', 'compare mod_revision') }
    case 'VALUE':
      return { key, target: 'value', op, value: Buffer.from(compare.value ?? Buffer.alloc(0)).toString('base64') }
    case 'LEASE':
      return { key, target: 'lease', op, value: compare.lease === undefined || compare.lease === '0' ? null : compare.lease }
  }
}

function rangeOp(request: RangeRequest): Translated {
  for (const field of ['min_mod_revision', 'max_mod_revision', 'min_create_revision', 'max_create_revision', 'revision'] as const) {
    if (request[field] !== '0') throw new EtcdError('unimplemented', `a Txn range with ${field} is not served`)
  }
  const sort = sortOf(request)
  const selection = keySelection(request.key, request.range_end)
  const limit = Math.max(0, int64(request.limit, 'limit'))
  const answer = { keysOnly: request.keys_only, countOnly: request.count_only, sort, limit }
  if (selection.type === 'single') {
    if (selection.key === null) throw new EtcdError('bad_request', 'a Txn reads keys paxos-kv can hold (1 to 1024 bytes of UTF-8 without NUL)')
    return { ops: [{ type: 'get', key: selection.key }], shapes: [{ type: 'range', ...answer, range: null }] }
  }
  if (selection.type !== 'range' || selection.range.type !== 'prefix') throw new EtcdError('unimplemented', 'a Txn reads one key or a prefix')
  // Sorted (a lock's or an election's "first created under the prefix"): up to a bound of the
  // prefix's keys are read in the txn's step and sorted here; past it, those and `more`.
  const listLimit = sort !== null ? limits.etcdTxnSortedRangeKeysMax : limit > 0 ? Math.min(limit, limits.listItemsMax) : limits.listItemsMax
  const ops: TxnOp[] = [{ type: 'list', prefix: selection.range.prefix, limit: listLimit }]
  return { ops, shapes: [{ type: 'range', ...answer, range: selection.range }] }
}

export function putOp(request: PutRequest, valueBytesMax: number): Translated {
  const key = writeKey(request.key)
  if (request.value.byteLength > valueBytesMax) throw new EtcdError('too_large', `values are limited to ${valueBytesMax} bytes`)
  // 0 is no lease; an id no lease can have is etcd's "not found" (the state machine says it for the rest).
  const lease = request.lease === '0' ? null : leaseOf(request.lease)
  if (request.lease !== '0' && lease === null) throw new EtcdError('lease_not_found')
  if (request.ignore_value || request.ignore_lease) throw new EtcdError('bad_request', 'ignore_value and ignore_lease are not served')
  const put: TxnOp = { type: 'put', key, value: request.value.toString('base64'), lease }
  // prev_kv: the key as it was, read in the same step as the write.
  return { ops: request.prev_kv ? [{ type: 'get', key }, put] : [put], shapes: [{ type: 'put', prevKv: request.prev_kv }] }
}

export function deleteOp(request: DeleteRangeRequest): Translated {
  const selection = keySelection(request.key, request.range_end)
  if (selection.type === 'single') {
    if (selection.key === null) throw new EtcdError('bad_request', 'keys are 1 to 1024 bytes of UTF-8 without NUL')
    const ops: TxnOp[] = request.prev_kv ? [{ type: 'get', key: selection.key }, { type: 'delete', key: selection.key }] : [{ type: 'delete', key: selection.key }]
    return { ops, shapes: [{ type: 'delete', prevKv: request.prev_kv }] }
  }
  const everything = selection.type === 'range' && selection.range.type === 'interval' && selection.range.start === '\u0000' && selection.range.end === null
  const prefix = everything ? '' : selection.type === 'range' && selection.range.type === 'prefix' ? selection.range.prefix : null
  if (prefix === null) throw new EtcdError('unimplemented', 'KV.DeleteRange deletes one key, a prefix or every key')
  if (request.prev_kv) throw new EtcdError('unimplemented', 'KV.DeleteRange of a range with prev_kv is not served')
  return { ops: [{ type: 'deletePrefix', prefix }], shapes: [{ type: 'delete', prevKv: false }] }
}

function requestOp(op: RequestOp, valueBytesMax: number): Translated {
  switch (op.request) {
    case 'request_range':
      return rangeOp(op.request_range!)
    case 'request_put':
      return putOp(op.request_put!, valueBytesMax)
    case 'request_delete_range':
      return deleteOp(op.request_delete_range!)
    case 'request_txn':
      throw new EtcdError('unimplemented', 'a Txn inside a Txn is not served')
    default:
      throw new EtcdError('bad_request', 'a Txn op without a request')
  }
}

function branch(ops: readonly RequestOp[], valueBytesMax: number): Translated {
  const translated = ops.map((op) => requestOp(op, valueBytesMax))
  return { ops: translated.flatMap((one) => one.ops), shapes: translated.flatMap((one) => one.shapes) }
}

const problemCodes: Readonly<Record<TxnProblem['kind'], EtcdErrorCode>> = {
  too_many_parts: 'too_many_ops',
  value_too_large: 'too_large',
  lease_not_found: 'lease_not_found',
  written_twice: 'duplicate_key',
  too_many_reads: 'bad_request',
  command_too_large: 'too_large',
}

/** The rules the HTTP API checks a txn by, in etcd's words. */
export function checkTxn(spec: TxnSpec): void {
  const problem = txnProblem(spec)
  if (problem === null) return
  const code = problemCodes[problem.kind]
  throw code === 'lease_not_found' || code === 'duplicate_key' || code === 'too_many_ops' ? new EtcdError(code) : new EtcdError(code, problem.message)
}

/** The txn as the state machine runs it, checked as the HTTP API checks it; and how to answer each branch. */
export function translateTxn(request: TxnRequest, valueBytesMax: number): Readonly<{ spec: TxnSpec; success: Shape[]; failure: Shape[] }> {
  const success = branch(request.success, valueBytesMax)
  const failure = branch(request.failure, valueBytesMax)
  const spec: TxnSpec = { compare: request.compare.map(compareOf), success: success.ops, failure: failure.ops }
  checkTxn(spec)
  return { spec, success: success.shapes, failure: failure.shapes }
}

export type TxnRun<R> = Readonly<{ type: 'local'; result: TxnResult }> | Readonly<{ type: 'relayed'; response: R }>

/** Runs a txn through the log (a write) or after a read barrier (no branch writes), on the leader. */
export async function runTxn<R extends { header: object }>(deps: EtcdDeps, context: CallContext, call: Omit<ForwardableCall, 'kind'>, spec: TxnSpec): Promise<TxnRun<R>> {
  if (!txnWrites(spec)) {
    const barrier = await onLeader<ReadBarrierOutcome, R>(deps, context, { ...call, kind: 'read' }, (_requestId, deadline) => deps.node.readBarrier(deadline))
    if (barrier.type === 'relayed') return barrier
    if (barrier.outcome.type === 'overloaded') throw new EtcdError('overloaded', 'too many reads waiting')
    if (barrier.outcome.type === 'timeout') throw new EtcdError('timeout', 'the read could not be confirmed by a quorum in time')
    return { type: 'local', result: deps.node.readTxn(spec) }
  }
  const written = await onLeader<WriteOutcome, R>(deps, context, { ...call, kind: 'write' }, (requestId, deadline) =>
    deps.node.write({ type: 'txn', txn: spec, idempotencyKey: null, requestId }, deadline))
  if (written.type === 'relayed') return written
  const applied = appliedWrite(written.outcome)
  if (applied.type !== 'txn') throw new AssertionError(`a txn answered as a ${applied.type}`)
  return { type: 'local', result: applied.result }
}

/** The results of one etcd op's TxnOps, taken from the front of `results`. */
function takeResults(shape: Shape, results: TxnOpResult[]): TxnOpResult[] {
  const count = shape.type !== 'range' && shape.prevKv ? 2 : 1
  const taken = results.splice(0, count)
  if (taken.length !== count) throw new AssertionError('a txn answered fewer results than it had ops')
  return taken
}

/** The kvs a get or list result holds; a retry's answer keeps no reads (not_kept): none. */
function itemsOf(result: TxnOpResult | undefined): Readonly<{ items: readonly Parameters<typeof keyValue>[0][]; more: boolean }> {
  if (result?.type === 'get') return { items: result.item === null ? [] : [result.item], more: false }
  if (result?.type === 'list') return { items: result.items, more: result.more }
  return { items: [], more: false }
}

export function responseOps(deps: EtcdDeps, shapes: readonly Shape[], txnResult: TxnResult): ResponseOp[] {
  const results = [...txnResult.results]
  const header = responseHeader(deps, txnResult.revision)
  return shapes.map((shape): ResponseOp => {
    const taken = takeResults(shape, results)
    switch (shape.type) {
      case 'range': {
        const { items: read, more: cut } = itemsOf(taken[0])
        // A list's total: its page when complete, else the prefix counted on this replica now.
        const count = cut && shape.range !== null ? deps.node.count(shape.range) : read.length
        const sorted = shape.sort === null ? read : sortItems(read, shape.sort)
        const items = shape.limit > 0 && sorted.length > shape.limit ? sorted.slice(0, shape.limit) : sorted
        const more = cut || items.length < sorted.length
        return { response_range: { header, kvs: shape.countOnly ? [] : items.map((item) => keyValue(item, shape.keysOnly)), more, count: String(count) } }
      }
      case 'put': {
        const previous = shape.prevKv ? itemsOf(taken[0]).items[0] ?? null : null
        return { response_put: { header, prev_kv: previous === null ? null : keyValue(previous, false) } }
      }
      case 'delete': {
        const deleted = taken[taken.length - 1]
        const previous = shape.prevKv ? itemsOf(taken[0]).items : []
        return { response_delete_range: { header, deleted: String(deleted?.type === 'delete' ? deleted.deleted : 0), prev_kvs: previous.map((item) => keyValue(item, false)) } }
      }
    }
  })
}

export async function txn(deps: EtcdDeps, request: TxnRequest, context: CallContext): Promise<TxnResponse> {
  const translated = translateTxn(request, deps.valueBytesMax)
  const run = await runTxn<TxnResponse>(deps, context, { service: 'KV', method: 'Txn' }, translated.spec)
  if (run.type === 'relayed') return run.response
  const shapes = run.result.succeeded ? translated.success : translated.failure
  return { header: responseHeader(deps, run.result.revision), succeeded: run.result.succeeded, responses: responseOps(deps, shapes, run.result) }
}
