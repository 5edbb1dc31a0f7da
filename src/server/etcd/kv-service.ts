/**
 * The etcd KV service over the node: Range (now, or at a past revision from the change history),
 * Put, DeleteRange and Compact. Each handler validates the request, then writes through the node
 * (forwarded to the leader when this node does not lead) or reads the local replica after a read
 * barrier (serializable: without one). The semantics live below, in the node and src/kv; this
 * file only translates.
 * @module
 */
import { AssertionError } from '../../core/assert.js'
import { leaseId, revision, type Revision } from '../../core/ids.js'
import { inKeyRange } from '../../kv/key-range.js'
import { getAt, readAtProblem, scanAt } from '../../kv/read-at-revision.js'
import { limits } from '../../core/limits.js'
import type { TxnSpec } from '../../kv/command.js'
import type { KvItem } from '../../kv/state-machine.js'
import type { WriteOutcome } from '../node-service.js'
import { appliedWrite, keyValue } from './kv-answers.js'
import { responseHeader, type CallContext, type EtcdDeps } from './context.js'
import { EtcdError } from './etcd-errors.js'
import { int64 } from './integers.js'
import { keySelection, type KeySelection } from './keys.js'
import { onLeader } from './leader.js'
import type { CompactionRequest, CompactionResponse, DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse, RangeRequest, RangeResponse, ResponseOp } from './messages.js'
import { checkTxn, deleteOp, putOp, responseOps, runTxn, type Translated } from './txn-service.js'
import { revisionFilter, sortItems, sortOf } from './sort.js'

export async function range(deps: EtcdDeps, request: RangeRequest, context: CallContext): Promise<RangeResponse> {
  const selection = keySelection(request.key, request.range_end)
  const limit = Math.max(0, int64(request.limit, 'limit'))
  const atRevision = int64(request.revision, 'revision')
  const sort = sortOf(request)
  const filter = revisionFilter(request)
  if (!request.serializable) {
    const barrier = await onLeader<Awaited<ReturnType<typeof deps.node.readBarrier>>, RangeResponse>(
      deps, context, { service: 'KV', method: 'Range', kind: 'read' }, (_requestId, deadline) => deps.node.readBarrier(deadline),
    )
    if (barrier.type === 'relayed') return barrier.response
    if (barrier.outcome.type === 'overloaded') throw new EtcdError('overloaded', 'too many reads waiting')
    if (barrier.outcome.type === 'timeout') throw new EtcdError('timeout', 'the read could not be confirmed by a quorum in time')
  }
  const current = deps.node.revision()
  const at = pastRevision(deps, atRevision, current)
  // Values are read only when answered or sorted by (etcd sorts before it leaves them out).
  const keysOnly = (request.keys_only || request.count_only) && sort?.target !== 'VALUE'
  const read = readSelection(deps, selection, at, { limit, keysOnly, whole: sort !== null || filter !== null })
  const kept = filter === null ? read.items : read.items.filter(filter)
  const items = sort === null ? kept : sortItems(kept, sort)
  const cut = limit > 0 && items.length > limit ? items.slice(0, limit) : items
  return {
    header: responseHeader(deps, current),
    kvs: request.count_only ? [] : cut.map((item) => keyValue(item, request.keys_only)),
    more: request.count_only ? false : read.more || cut.length < items.length,
    count: String(read.count),
  }
}

/**
 * The past revision a Range reads at (null: the current state): served from the change history
 * from its floor on; below it etcd's "compacted", above the store's "future revision".
 */
function pastRevision(deps: EtcdDeps, atRevision: number, current: Revision): Revision | null {
  if (atRevision <= 0 || atRevision === current) return null
  const problem = readAtProblem(revision(atRevision), current, deps.node.watchHistory().rangeFloor)
  if (problem === 'future') throw new EtcdError('future_revision')
  if (problem === 'compacted') throw new EtcdError('compacted')
  return revision(atRevision)
}

type Read = Readonly<{ items: readonly KvItem[]; more: boolean; count: number }>

function selects(selection: KeySelection): (key: string) => boolean {
  if (selection.type === 'single') return (key) => key === selection.key
  if (selection.type === 'range') return (key) => inKeyRange(selection.range, key)
  return () => false
}

/**
 * The local replica's keys, now or at a past revision `at`. An answer holds at most
 * etcdRangeKeysMax keys and etcdRangeBytesMax bytes; past that it says `more` (the client pages
 * with limit). A sorted or filtered read needs the whole range first (`whole`), so it is served
 * only while the whole range fits one answer.
 */
function readSelection(deps: EtcdDeps, selection: KeySelection, at: Revision | null, options: Readonly<{ limit: number; keysOnly: boolean; whole: boolean }>): Read {
  if (selection.type === 'empty') return { items: [], more: false, count: 0 }
  const changed = at === null ? null : deps.node.watchHistory().changedAfter(at, selects(selection))
  if (selection.type === 'single') {
    const item = selection.key === null ? null : changed === null ? deps.node.get(selection.key) : getAt(deps.node, changed, selection.key)
    return item === null ? { items: [], more: false, count: 0 } : { items: [item], more: false, count: 1 }
  }
  const keysMax = options.limit > 0 && !options.whole ? Math.min(options.limit, limits.etcdRangeKeysMax) : limits.etcdRangeKeysMax
  const bounds = { limit: keysMax, bytesMax: limits.etcdRangeBytesMax, keysOnly: options.keysOnly }
  const scanned = changed === null ? deps.node.scan(selection.range, bounds) : scanAt(deps.node, changed, selection.range, bounds)
  if (options.whole && scanned.more) {
    throw new EtcdError('unimplemented', `sorting and revision filters are served for ranges that fit one answer (${limits.etcdRangeKeysMax} keys, ${limits.etcdRangeBytesMax} bytes); page by key instead`)
  }
  const count = 'count' in scanned ? (scanned.count as number) : scanned.more ? deps.node.count(selection.range) : scanned.items.length
  return { items: scanned.items, more: scanned.more, count }
}

/**
 * etcd's compact, through the log so that every replica's history drops the same revisions at
 * the same point: checked on the leader first ("future revision" past its revision, "compacted"
 * at or below what it no longer serves). `physical`: the answer waits until this member has
 * applied it too (the leader has, when it answers).
 */
export async function compact(deps: EtcdDeps, request: CompactionRequest, context: CallContext): Promise<CompactionResponse> {
  const at = int64(request.revision, 'revision')
  type Refused = Readonly<{ type: 'future_revision' }> | Readonly<{ type: 'compacted' }>
  const done = await onLeader<WriteOutcome | Refused, CompactionResponse>(deps, context, { service: 'KV', method: 'Compact', kind: 'write' }, (requestId, deadline) => {
    const write = (): Promise<WriteOutcome> => deps.node.write({ type: 'compact', revision: revision(at), idempotencyKey: null, requestId }, deadline)
    // A follower's write answers not_leader and the leader is asked: only the leader's state decides.
    if (deps.node.status().role !== 'leader') return write()
    if (at > deps.node.revision()) return Promise.resolve({ type: 'future_revision' })
    if (at <= deps.node.watchHistory().rangeFloor) return Promise.resolve({ type: 'compacted' })
    return write()
  })
  if (done.type === 'relayed') {
    if (request.physical) await appliedHere(deps, () => deps.node.watchHistory().rangeFloor >= at)
    return done.response
  }
  const outcome = done.outcome
  if (outcome.type === 'future_revision' || outcome.type === 'compacted') throw new EtcdError(outcome.type)
  appliedWrite(outcome)
  return { header: responseHeader(deps, deps.node.revision()) }
}

/** Waits, woken by applies, until `condition` holds here; UNAVAILABLE past the request timeout. */
async function appliedHere(deps: EtcdDeps, condition: () => boolean): Promise<void> {
  if (condition()) return
  const handle = deps.node.openWatch()
  if (handle === null) throw new EtcdError('overloaded', 'too many waiters on this member')
  try {
    const deadline = deps.node.nowMs() + deps.requestTimeoutMs
    while (!condition()) {
      const remaining = deadline - deps.node.nowMs()
      if (remaining <= 0 || (await handle.next(remaining)) === 'closed') throw new EtcdError('timeout', 'the compaction was applied by the leader, not yet here')
    }
  } finally {
    handle.close()
  }
}

export async function put(deps: EtcdDeps, request: PutRequest, context: CallContext): Promise<PutResponse> {
  const translated = putOp(request, deps.valueBytesMax)
  if (request.prev_kv) return viaTxn<PutResponse>(deps, context, 'Put', translated, (op) => ('response_put' in op ? op.response_put : null))
  const [op] = translated.ops
  if (op?.type !== 'put') throw new AssertionError('a put without prev_kv is one put')
  const written = await onLeader<WriteOutcome, PutResponse>(deps, context, { service: 'KV', method: 'Put', kind: 'write' }, (requestId, deadline) =>
    deps.node.write({ type: 'put', key: op.key, value: request.value, lease: op.lease === null ? undefined : leaseId(op.lease), cas: null, idempotencyKey: null, requestId }, deadline))
  if (written.type === 'relayed') return written.response
  return { header: responseHeader(deps, revisionOf(appliedWrite(written.outcome))), prev_kv: null }
}

export async function deleteRange(deps: EtcdDeps, request: DeleteRangeRequest, context: CallContext): Promise<DeleteRangeResponse> {
  const translated = deleteOp(request)
  const [op] = translated.ops
  // One key without prev_kv is a plain delete; prev_kv and prefixes are one-step txns.
  if (translated.ops.length !== 1 || op?.type !== 'delete') {
    return viaTxn<DeleteRangeResponse>(deps, context, 'DeleteRange', translated, (answer) => ('response_delete_range' in answer ? answer.response_delete_range : null))
  }
  const written = await onLeader<WriteOutcome, DeleteRangeResponse>(deps, context, { service: 'KV', method: 'DeleteRange', kind: 'write' }, (requestId, deadline) =>
    deps.node.write({ type: 'delete', key: op.key, cas: null, idempotencyKey: null, requestId }, deadline))
  if (written.type === 'relayed') return written.response
  const applied = appliedWrite(written.outcome)
  return { header: responseHeader(deps, revisionOf(applied)), deleted: applied.type === 'ok' && applied.deleted === true ? '1' : '0', prev_kvs: [] }
}

function revisionOf(applied: ReturnType<typeof appliedWrite>): Revision {
  return applied.type === 'ok' ? applied.version : applied.result.revision
}

/** A Put or DeleteRange run as a one-branch txn: its one answer, as the txn answered it. */
async function viaTxn<R extends { header: object }>(deps: EtcdDeps, context: CallContext, method: 'Put' | 'DeleteRange', translated: Translated, pick: (op: ResponseOp) => R | null): Promise<R> {
  const spec: TxnSpec = { compare: [], success: translated.ops, failure: [] }
  checkTxn(spec)
  const run = await runTxn<R>(deps, context, { service: 'KV', method }, spec)
  if (run.type === 'relayed') return run.response
  const [answer] = responseOps(deps, translated.shapes, run.result)
  const picked = answer === undefined ? null : pick(answer)
  if (picked === null) throw new AssertionError(`a ${method} txn answered another op`)
  return picked
}
