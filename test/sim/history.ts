/**
 * The clients' history: one record per operation, with invoke and completion ticks and the
 * observed result. A write with no answer is indeterminate: it may or may not have happened.
 */
/**
 * `get` is a linearizable read through the leader; `stale-get` reads any node's state directly;
 * `txn` is one operation over the keys it names (see SimTxn).
 */
export type OpKind = 'put' | 'delete' | 'get' | 'stale-get' | 'txn'

/** An op of a simulated txn; put values are unique, as every put's. */
export type SimTxnOp = Readonly<{ type: 'put'; key: string; value: string }> | Readonly<{ type: 'delete'; key: string }> | Readonly<{ type: 'get'; key: string }>

/**
 * The txns the simulated clients send: one compare on a key's value (null: the key is absent,
 * createRevision 0), then the success or the failure ops. Values are what the model knows
 * exactly (versions it may not), so the checker can always decide the compare.
 */
export type SimTxn = Readonly<{ compare: Readonly<{ key: string; value: string | null }>; success: readonly SimTxnOp[]; failure: readonly SimTxnOp[] }>

/** `unknown`: a read whose answer a replayed retry does not carry. */
export type SimTxnOpResult =
  | Readonly<{ type: 'put'; version: number }>
  | Readonly<{ type: 'delete'; deleted: number }>
  | Readonly<{ type: 'get'; value: string | null; version: number }>
  | Readonly<{ type: 'unknown' }>

export function txnKeysOf(txn: SimTxn): string[] {
  return [...new Set([txn.compare.key, ...txn.success.map((op) => op.key), ...txn.failure.map((op) => op.key)])]
}

export function txnWritesAny(txn: SimTxn): boolean {
  return [...txn.success, ...txn.failure].some((op) => op.type !== 'get')
}

export type OpResult =
  | Readonly<{ type: 'written'; version: number; deleted: boolean | null }>
  | Readonly<{ type: 'cas_mismatch'; version: number }>
  | Readonly<{ type: 'read'; value: string | null; version: number }>
  /** `revision`: the txn's, or the store's it read at when its branch wrote nothing. */
  | Readonly<{ type: 'txn'; succeeded: boolean; revision: number; results: readonly SimTxnOpResult[] }>

export type Op = {
  readonly id: number
  readonly client: number
  readonly kind: OpKind
  /** A txn's first key (its keys are in `txn`). */
  readonly key: string
  readonly txn?: SimTxn
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
   * writes (and txns that may write) stay, as indeterminate. Stale reads promise no recency, so
 * they are checked apart.
   */
  forChecking(): Op[] {
    return this.ops.filter((op) => op.kind === 'put' || op.kind === 'delete' || ((op.kind === 'get' || op.kind === 'txn') && (op.result !== null || (op.txn !== undefined && txnWritesAny(op.txn)))))
  }
}
