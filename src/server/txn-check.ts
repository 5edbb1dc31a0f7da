/**
 * The rules a txn must meet before it is proposed, beyond its shape: the op limit, value sizes,
 * leases, the write-once rule, the read limit and the size of the command it becomes. Both APIs
 * check a TxnSpec with this one function and word its answer in their own error table.
 * @module
 */
import { limits } from '../core/limits.js'
import { commandBytes, commandBytesMax, type TxnCommand, type TxnSpec } from '../kv/command.js'
import { writeTwiceIn } from '../kv/txn-rules.js'

export type TxnProblem = Readonly<{
  kind: 'too_many_parts' | 'value_too_large' | 'lease_not_found' | 'written_twice' | 'too_many_reads' | 'command_too_large'
  message: string
}>

/** The estimate of the txn as a command with the largest ids a node adds: it must fit one slot. */
function commandEstimate(spec: TxnSpec): number {
  const widest: TxnCommand = {
    type: 'txn', ...spec, proposal: 'p'.repeat(128), idempotency: { key: 'i'.repeat(limits.idempotencyKeyBytesMax), atMs: 0 },
    request: { id: 'r'.repeat(limits.requestIdBytesMax), atMs: 0 }, quotaBytes: 0,
  }
  return commandBytes(widest)
}

/** Null when `spec` may be proposed (or, without writes, served), else the first rule it breaks. */
export function txnProblem(spec: TxnSpec): TxnProblem | null {
  const parts = spec.compare.length + spec.success.length + spec.failure.length
  if (parts > limits.txnPartsMax) return { kind: 'too_many_parts', message: `a txn has at most ${limits.txnPartsMax} compares and ops together; this one has ${parts}` }
  for (const op of [...spec.success, ...spec.failure]) {
    if (op.type !== 'put') continue
    const bytes = Buffer.byteLength(op.value, 'base64')
    if (bytes > limits.valueBytesMax) return { kind: 'value_too_large', message: `the value for ${JSON.stringify(op.key)} is ${bytes} bytes; the limit is ${limits.valueBytesMax}` }
  }
  const twice = writeTwiceIn(spec)
  if (twice !== null) return { kind: 'written_twice', message: twice }
  // Each branch may read at most a page's worth of items (gets, and list limits).
  for (const ops of [spec.success, spec.failure]) {
    const items = ops.reduce((sum, op) => sum + (op.type === 'get' ? 1 : op.type === 'list' ? op.limit : 0), 0)
    if (items > limits.listItemsMax) return { kind: 'too_many_reads', message: `a txn branch reads at most ${limits.listItemsMax} items (gets and list limits together); this one asks for ${items}` }
  }
  if (commandEstimate(spec) > commandBytesMax) return { kind: 'command_too_large', message: 'the txn\'s keys and values together are larger than one write may be' }
  return null
}
