/**
 * What makes a txn well-formed, beyond its shape: pure rules on the command, checked at the HTTP
 * edge, at the peer codec and in the state machine alike.
 * @module
 */
import type { TxnOp, TxnSpec } from './command.js'

/** Whether `op` changes state. */
export function isWriteOp(op: TxnOp): boolean {
  return op.type === 'put' || op.type === 'delete' || op.type === 'deletePrefix'
}

/** A txn with no write in either branch never needs the log: a read barrier serves it. */
export function txnWrites(spec: TxnSpec): boolean {
  return spec.success.some(isWriteOp) || spec.failure.some(isWriteOp)
}

/** What one write op covers: one key, or every key with a prefix. */
type Written = Readonly<{ exact: boolean; text: string }>

function covers(a: Written, b: Written): boolean {
  if (a.exact && b.exact) return a.text === b.text
  if (a.exact) return a.text.startsWith(b.text)
  if (b.exact) return b.text.startsWith(a.text)
  return a.text.startsWith(b.text) || b.text.startsWith(a.text)
}

/**
 * The write-once rule: in each branch, no two write ops may touch a common key (a put and a
 * delete of it, two puts, a put under a deleted prefix, overlapping prefixes). Null when it
 * holds, else why not. Checked at the edge (400), where the txn is decoded from a peer, and where it is applied.
 */
export function writeTwiceIn(spec: TxnSpec): string | null {
  for (const [name, ops] of [['success', spec.success], ['failure', spec.failure]] as const) {
    const seen: Written[] = []
    for (const op of ops) {
      if (!isWriteOp(op)) continue
      const target: Written = op.type === 'deletePrefix' ? { exact: false, text: op.prefix } : { exact: true, text: (op as { key: string }).key }
      const clash = seen.find((earlier) => covers(earlier, target))
      if (clash !== undefined) return `the ${name} ops write ${JSON.stringify(target.text)} and ${JSON.stringify(clash.text)}: a key may be written at most once per txn`
      seen.push(target)
    }
  }
  return null
}

