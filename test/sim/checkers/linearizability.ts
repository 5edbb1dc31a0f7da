/**
 * Linearizability: a Wing–Gong search for an order of the operations that respects real time
 * and the sequential rules of the store. Keys are independent registers, so the problem splits
 * by key, except that a txn is one operation over every key it names: keys joined by a txn are
 * checked together, in one state that maps each of them to its register. An indeterminate
 * write (or txn) may take effect at any point after its invocation, or never.
 */
import type { Op, SimTxnOp, SimTxnOpResult } from '../history.js'
import { txnKeysOf } from '../history.js'

type State = Readonly<{ value: string | null; version: number | null }>
/** Each key's register in one group of keys. */
type States = Readonly<Record<string, State>>

const initial: State = { value: null, version: 0 }
const searchStepsMax = 500_000

/** The key's version in `state`: 0 when absent; null when unknown (an indeterminate write). */
function currentVersion(state: State): number | null {
  return state.value === null ? 0 : state.version
}

function casMayMatch(op: Op, state: State): boolean {
  const version = currentVersion(state)
  return op.cas === null || version === null || version === op.cas
}

/** Every state `op` (one key's put, delete or get) may leave behind when it takes effect in `state`; empty if impossible. */
export function step(op: Op, state: State): State[] {
  const result = op.result
  const written: State = op.kind === 'put' ? { value: op.value, version: null } : { value: null, version: 0 }
  if (result === null) return casMayMatch(op, state) ? [written] : []
  switch (result.type) {
    case 'read':
      return readStep(state, result.value, result.version)
    case 'cas_mismatch': {
      const version = currentVersion(state)
      if (op.cas === null || result.version === op.cas) return []
      return version === null || version === result.version ? [state] : []
    }
    case 'written': {
      if (!casMayMatch(op, state)) return []
      const version = currentVersion(state)
      if (version !== null && state.value !== null && result.version <= version) return []
      if (op.kind === 'delete' && result.deleted !== (state.value !== null)) return []
      return [op.kind === 'put' ? { value: op.value, version: result.version } : written]
    }
    case 'txn':
      return []
  }
}

/** A read of `value` at `version` in `state`: what it must match, and what it teaches (an unknown version). */
function readStep(state: State, value: string | null, version: number): State[] {
  if (value !== state.value) return []
  if (state.value === null) return [state]
  if (state.version !== null && state.version !== version) return []
  return [{ value: state.value, version }]
}

/**
 * A txn taking effect in `states`: the compare picks the branch, whose ops apply in order (a
 * put's version is the txn's revision, known only from an answer). With an answer, the branch
 * taken and every op's result must match the model.
 */
export function txnStep(op: Op, states: States): States[] {
  const txn = op.txn!
  const result = op.result
  const compared = states[txn.compare.key] ?? initial
  const succeeded = compared.value === txn.compare.value
  if (result !== null && (result.type !== 'txn' || result.succeeded !== succeeded)) return []
  const ops = succeeded ? txn.success : txn.failure
  const results = result?.type === 'txn' ? result.results : null
  if (results !== null && results.length !== ops.length) return []
  const next: Record<string, State> = { ...states }
  for (const [index, txnOp] of ops.entries()) {
    const state = next[txnOp.key] ?? initial
    const after = txnOpStep(txnOp, state, results?.[index] ?? null, result?.type === 'txn' ? result.revision : null)
    if (after === null) return []
    next[txnOp.key] = after
  }
  return [next]
}

/** One op of a txn: the state after it, or null when its result cannot be. `revision`: the txn's, when answered. */
function txnOpStep(op: SimTxnOp, state: State, result: SimTxnOpResult | null, revision: number | null): State | null {
  if (result?.type === 'unknown') result = null
  switch (op.type) {
    case 'put': {
      if (result !== null && (result.type !== 'put' || result.version !== revision)) return null
      const version = currentVersion(state)
      if (revision !== null && version !== null && state.value !== null && revision <= version) return null
      return { value: op.value, version: revision }
    }
    case 'delete':
      if (result !== null && (result.type !== 'delete' || result.deleted !== (state.value === null ? 0 : 1))) return null
      return { value: null, version: 0 }
    case 'get': {
      if (result === null) return state
      if (result.type !== 'get') return null
      return readStep(state, result.value, result.version)[0] ?? null
    }
  }
}

export type LinearizabilityVerdict = Readonly<{ ok: true }> | Readonly<{ ok: false; reason: string }>

function stepAll(op: Op, states: States): States[] {
  if (op.kind === 'txn') return txnStep(op, states)
  return step(op, states[op.key] ?? initial).map((state) => ({ ...states, [op.key]: state }))
}

/** One group of keys (a single key, or keys joined by txns): every op on them, checked together. */
export function checkKey(ops: readonly Op[]): LinearizabilityVerdict {
  const sorted = [...ops].sort((a, b) => a.invokeTick - b.invokeTick || a.id - b.id)
  const complete = sorted.map((op) => (op.result === null ? Number.POSITIVE_INFINITY : op.completeTick!))
  const required = sorted.filter((op) => op.result !== null).length
  const seen = new Set<string>()
  let steps = 0
  const search = (done: readonly boolean[], doneRequired: number, states: States): boolean => {
    if (doneRequired === required) return true
    steps += 1
    if (steps > searchStepsMax) throw new Error('search budget exhausted')
    const memoKey = `${done.map((flag) => (flag ? 1 : 0)).join('')}|${JSON.stringify(Object.entries(states).sort(([a], [b]) => (a < b ? -1 : 1)))}`
    if (seen.has(memoKey)) return false
    seen.add(memoKey)
    let horizon = Number.POSITIVE_INFINITY
    sorted.forEach((_, index) => {
      if (!done[index]) horizon = Math.min(horizon, complete[index]!)
    })
    for (const [index, op] of sorted.entries()) {
      if (done[index] || op.invokeTick > horizon) continue
      for (const next of stepAll(op, states)) {
        const marked = done.slice()
        marked[index] = true
        if (search(marked, doneRequired + (op.result === null ? 0 : 1), next)) return true
      }
    }
    return false
  }
  try {
    if (search(sorted.map(() => false), 0, {})) return { ok: true }
  } catch (error) {
    return { ok: false, reason: (error as Error).message }
  }
  return { ok: false, reason: 'no linearization exists' }
}

function keysOf(op: Op): string[] {
  return op.txn === undefined ? [op.key] : txnKeysOf(op.txn)
}

/** Keys joined by any txn, as groups (union-find), each with its ops. */
function groups(ops: readonly Op[]): Map<string, Op[]> {
  const parent = new Map<string, string>()
  const root = (key: string): string => {
    let at = key
    while ((parent.get(at) ?? at) !== at) at = parent.get(at)!
    parent.set(key, at)
    return at
  }
  for (const op of ops) {
    const [first, ...rest] = keysOf(op)
    if (!parent.has(first!)) parent.set(first!, first!)
    for (const key of rest) {
      if (!parent.has(key)) parent.set(key, key)
      parent.set(root(key), root(first!))
    }
  }
  const byGroup = new Map<string, Op[]>()
  for (const op of ops) {
    const group = root(keysOf(op)[0]!)
    byGroup.set(group, [...(byGroup.get(group) ?? []), op])
  }
  return byGroup
}

function describeOp(op: Op): string {
  const what = op.txn === undefined ? `${op.kind}${op.value === null ? '' : `(${op.value})`}${op.cas === null ? '' : ` cas=${op.cas}`}` : `txn ${JSON.stringify(op.txn)}`
  return `#${op.id} c${op.client} ${what} [${op.invokeTick},${op.completeTick ?? '?'}] → ${JSON.stringify(op.result)}`
}

export function checkLinearizability(ops: readonly Op[]): string[] {
  const violations: string[] = []
  for (const groupOps of groups(ops).values()) {
    const verdict = checkKey(groupOps)
    if (!verdict.ok) {
      const keys = [...new Set(groupOps.flatMap(keysOf))].sort()
      violations.push(`linearizability: key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}: ${verdict.reason}\n    ${groupOps.map(describeOp).join('\n    ')}`)
    }
  }
  return violations
}
