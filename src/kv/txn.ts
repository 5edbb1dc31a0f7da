/**
 * Transactions, pure: compares on the current state, then one branch of ops applied in order as
 * one step at one revision (etcd's Txn). The same function answers a txn from the log and a
 * read-only txn served by a read barrier (its branch writes nothing, so the store is untouched).
 * Both APIs (the native HTTP one and etcd's) build a TxnSpec and call this; the rules a txn must
 * meet to be proposed at all are in src/core/txn-rules.ts.
 * @module
 */
import { assert, assertNever } from '../core/assert.js'
import type { CompareOperator, TxnCompare, TxnOp, TxnSpec } from './command.js'
import { isWriteOp, writeTwiceIn } from './txn-rules.js'
import { leaseId, revision, type Revision } from '../core/ids.js'
import { compareKeys, utf8Length } from './key-order.js'
import { entryOverheadBytes, type KvStore, type StoredValue } from './kv-store.js'
import { written } from './written.js'
import { leaseRefusal } from './leases.js'
import type { ApplyResult, TxnOpResult } from './state-machine.js'

/** `order`: negative, zero or positive as the key's side sorts before, equal to or after the compare's. */
function holds(op: CompareOperator, order: number): boolean {
  switch (op) {
    case '=':
      return order === 0
    case '!=':
      return order !== 0
    case '<':
      return order < 0
    case '>':
      return order > 0
  }
}

/** Lease ids as int64 values: no lease is 0, below every id, as etcd orders them. */
function leaseOrder(a: string | null, b: string | null): number {
  const x = BigInt(a ?? '0')
  const y = BigInt(b ?? '0')
  return x < y ? -1 : x > y ? 1 : 0
}

export function compareHolds(entry: StoredValue | null, compare: TxnCompare): boolean {
  switch (compare.target) {
    case 'value': {
      // As etcd: a value compare on a missing key fails, whatever the operator.
      if (entry === null) return false
      return holds(compare.op, Buffer.compare(Buffer.from(entry.value), Buffer.from(compare.value, 'base64')))
    }
    case 'version':
    case 'createRevision':
    case 'writes': {
      const actual = entry === null ? 0 : entry[compare.target]
      return holds(compare.op, Math.sign(actual - compare.value))
    }
    case 'lease':
      return holds(compare.op, leaseOrder(entry?.lease ?? null, compare.value))
    default:
      return assertNever(compare)
  }
}

/**
 * What the branch's puts would add to live data, against the state before the txn (the
 * write-once rule means no op of the branch touches a put's key first). Deletes in the same txn
 * are not credited: a txn that only fits thanks to its own deletes is refused, conservatively.
 */
function putGrowth(store: KvStore, ops: readonly TxnOp[]): number {
  let growth = 0
  for (const op of ops) {
    if (op.type !== 'put') continue
    const existing = store.get(op.key)
    const bytes = Buffer.byteLength(op.value, 'base64')
    growth += existing === null ? utf8Length(op.key) + entryOverheadBytes + bytes : bytes - existing.value.byteLength
  }
  return growth
}

/** Deletes every key with `prefix` (page by page: never a list of them all); returns how many. */
function deletePrefix(store: KvStore, prefix: string): number {
  const pageItems = 256
  let deleted = 0
  for (;;) {
    const page = store.range(prefix, pageItems, null)
    for (const item of page.items) {
      assert(store.delete(item.key), `listed key ${item.key} vanished`)
      deleted += 1
    }
    if (!page.more) return deleted
  }
}

function runOp(store: KvStore, op: TxnOp, at: Revision): TxnOpResult {
  switch (op.type) {
    case 'put':
      store.put(op.key, written(store.get(op.key), Buffer.from(op.value, 'base64'), at, op.lease === null ? null : leaseId(op.lease)))
      return { type: 'put', revision: at }
    case 'delete':
      return { type: 'delete', deleted: store.delete(op.key) ? 1 : 0 }
    case 'deletePrefix':
      return { type: 'delete', deleted: deletePrefix(store, op.prefix) }
    case 'get': {
      const entry = store.get(op.key)
      return { type: 'get', item: entry === null ? null : { key: op.key, ...entry } }
    }
    case 'list':
      return { type: 'list', ...store.range(op.prefix, op.limit, null) }
    default:
      return assertNever(op)
  }
}

/**
 * Evaluates `spec` at `current`: the compares, then the chosen branch. A branch with writes is
 * applied at current + 1, all of it or (over the quota) none of it; one without writes changes
 * nothing. `quotaBytes` as on a put (see kv.ts).
 */
export function applyTxn(store: KvStore, spec: TxnSpec, current: Revision, quotaBytes?: number): { result: ApplyResult; revision: Revision } {
  assert(writeTwiceIn(spec) === null, 'a txn that writes a key twice reached the state machine')
  const succeeded = spec.compare.every((compare) => compareHolds(store.get(compare.key), compare))
  const ops = succeeded ? spec.success : spec.failure
  const writes = ops.some(isWriteOp)
  for (const op of ops) {
    const refused = op.type === 'put' ? leaseRefusal(store, store.get(op.key), op.lease === null ? null : leaseId(op.lease)) : null
    if (refused !== null) return { result: refused, revision: current }
  }
  if (writes && quotaBytes !== undefined) {
    const growth = putGrowth(store, ops)
    if (growth > 0 && store.usedBytes() + growth > quotaBytes) return { result: { type: 'quota_exceeded' }, revision: current }
  }
  const at = writes ? revision(current + 1) : current
  const results = ops.map((op) => runOp(store, op, at))
  return { result: { type: 'txn', succeeded, revision: at, results, replayed: false }, revision: at }
}

/** Keys of a spec, in key order, for callers that lock or model them (the simulator's checker). */
export function txnKeys(spec: TxnSpec): string[] {
  const keys = new Set<string>()
  for (const compare of spec.compare) keys.add(compare.key)
  for (const op of [...spec.success, ...spec.failure]) keys.add('prefix' in op ? op.prefix : op.key)
  return [...keys].sort(compareKeys)
}
