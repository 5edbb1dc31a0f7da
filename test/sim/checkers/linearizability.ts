/**
 * Linearizability per key (keys are independent registers, so the problem splits by key): a
 * Wing–Gong search for an order of the operations that respects real time and the register's
 * sequential rules. An indeterminate write may take effect at any point after its invocation,
 * or never.
 */
import type { Op } from '../history.js'

type State = Readonly<{ value: string | null; version: number | null }>

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

/** Every state `op` may leave behind when it takes effect in `state`; empty if impossible. */
export function step(op: Op, state: State): State[] {
  const result = op.result
  const written: State = op.kind === 'put' ? { value: op.value, version: null } : { value: null, version: 0 }
  if (result === null) return casMayMatch(op, state) ? [written] : []
  switch (result.type) {
    case 'read': {
      if (result.value !== state.value) return []
      if (state.value === null) return [state]
      if (state.version !== null && state.version !== result.version) return []
      return [{ value: state.value, version: result.version }]
    }
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
  }
}

export type LinearizabilityVerdict = Readonly<{ ok: true }> | Readonly<{ ok: false; reason: string }>

export function checkKey(ops: readonly Op[]): LinearizabilityVerdict {
  const sorted = [...ops].sort((a, b) => a.invokeTick - b.invokeTick || a.id - b.id)
  const complete = sorted.map((op) => (op.result === null ? Number.POSITIVE_INFINITY : op.completeTick!))
  const required = sorted.filter((op) => op.result !== null).length
  const seen = new Set<string>()
  let steps = 0
  const search = (done: readonly boolean[], doneRequired: number, state: State): boolean => {
    if (doneRequired === required) return true
    steps += 1
    if (steps > searchStepsMax) throw new Error('search budget exhausted')
    const memoKey = `${done.map((flag) => (flag ? 1 : 0)).join('')}|${state.value}|${state.version}`
    if (seen.has(memoKey)) return false
    seen.add(memoKey)
    let horizon = Number.POSITIVE_INFINITY
    sorted.forEach((_, index) => {
      if (!done[index]) horizon = Math.min(horizon, complete[index]!)
    })
    for (const [index, op] of sorted.entries()) {
      if (done[index] || op.invokeTick > horizon) continue
      for (const next of step(op, state)) {
        const marked = done.slice()
        marked[index] = true
        if (search(marked, doneRequired + (op.result === null ? 0 : 1), next)) return true
      }
    }
    return false
  }
  try {
    if (search(sorted.map(() => false), 0, initial)) return { ok: true }
  } catch (error) {
    return { ok: false, reason: (error as Error).message }
  }
  return { ok: false, reason: 'no linearization exists' }
}

export function checkLinearizability(ops: readonly Op[]): string[] {
  const byKey = new Map<string, Op[]>()
  for (const op of ops) byKey.set(op.key, [...(byKey.get(op.key) ?? []), op])
  const violations: string[] = []
  for (const [key, keyOps] of byKey) {
    const verdict = checkKey(keyOps)
    if (!verdict.ok) {
      const shown = keyOps.map((op) => `#${op.id} c${op.client} ${op.kind}${op.value === null ? '' : `(${op.value})`}${op.cas === null ? '' : ` cas=${op.cas}`} [${op.invokeTick},${op.completeTick ?? '?'}] → ${JSON.stringify(op.result)}`)
      violations.push(`linearizability: key ${key}: ${verdict.reason}\n    ${shown.join('\n    ')}`)
    }
  }
  return violations
}
