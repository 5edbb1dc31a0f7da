/**
 * Range's sort options. Keys come in key order already (etcd's default); any other order
 * sorts the whole range in memory, as etcd does, so it is served only while the range fits one
 * answer (see kv-service.ts).
 * @module
 */
import { compareKeys } from '../../kv/key-order.js'
import type { KvItem } from '../../kv/state-machine.js'
import type { RangeRequest } from './messages.js'

export type Sort = Readonly<{ target: RangeRequest['sort_target']; descending: boolean }>

/** Null when the answer is in key order, ascending: the store's own order. */
export function sortOf(request: Pick<RangeRequest, 'sort_order' | 'sort_target'>): Sort | null {
  const target = request.sort_target
  // etcd: a target other than the key with no order sorts ascending.
  if (request.sort_order !== 'DESCEND' && target === 'KEY') return null
  return { target, descending: request.sort_order === 'DESCEND' }
}

const comparators: Readonly<Record<Sort['target'], (a: KvItem, b: KvItem) => number>> = {
  KEY: (a, b) => compareKeys(a.key, b.key),
  VERSION: (a, b) => a.writes - b.writes,
  CREATE: (a, b) => a.createRevision - b.createRevision,
  MOD: (a, b) => a.version - b.version,
  VALUE: (a, b) => Buffer.compare(a.value, b.value),
}

/** Ties keep key order (the input's). */
export function sortItems(items: readonly KvItem[], sort: Sort): KvItem[] {
  const compare = comparators[sort.target]
  return [...items].sort((a, b) => (sort.descending ? compare(b, a) : compare(a, b)))
}
