/**
 * The clients' history: one record per operation, with invoke and completion ticks and the
 * observed result. A write with no answer is indeterminate: it may or may not have happened.
 */
/** `get` is a linearizable read through the leader; `stale-get` reads any node's state directly. */
export type OpKind = 'put' | 'delete' | 'get' | 'stale-get'

export type OpResult =
  | Readonly<{ type: 'written'; version: number; deleted: boolean | null }>
  | Readonly<{ type: 'cas_mismatch'; version: number }>
  | Readonly<{ type: 'read'; value: string | null; version: number }>

export type Op = {
  readonly id: number
  readonly client: number
  readonly kind: OpKind
  readonly key: string
  /** The value a put writes (unique per put). */
  readonly value: string | null
  readonly cas: number | null
  readonly invokeTick: number
  completeTick: number | null
  result: OpResult | null
}

export class History {
  readonly ops: Op[] = []

  invoke(op: Omit<Op, 'id' | 'completeTick' | 'result'>): Op {
    const record: Op = { ...op, id: this.ops.length, completeTick: null, result: null }
    this.ops.push(record)
    return record
  }

  complete(op: Op, tick: number, result: OpResult): void {
    op.completeTick = tick
    op.result = result
  }

  /**
   * The linearizability check's input. Reads that never completed had no effect and are dropped;
   * writes stay, as indeterminate. Stale reads promise no recency, so they are checked apart.
   */
  forChecking(): Op[] {
    return this.ops.filter((op) => op.kind === 'put' || op.kind === 'delete' || (op.kind === 'get' && op.result !== null))
  }
}
