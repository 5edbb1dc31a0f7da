/**
 * Range's sort options and revision filters. Keys come in key order already (etcd's default);
 * any other order sorts the whole range in memory, and the filters prune it, as etcd does, so
 * both are served only while the range fits one answer (see kv-service.ts).
 * @module
 */
import { compareKeys } from '../../kv/key-order.js'
import type { KvItem } from '../../kv/state-machine.js'
import { int64 } from './integers.js'
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

/**
 * The min/max create and mod revision filters as one predicate (a bound of 0 is none), or null
 * without any: etcd prunes the range by them after reading it, and counts it before.
 */
export function revisionFilter(request: Pick<RangeRequest, 'min_mod_revision' | 'max_mod_revision' | 'min_create_revision' | 'max_create_revision'>): ((item: KvItem) => boolean) | null {
  const minMod = int64(request.min_mod_revision, 'min_mod_revision')
  const maxMod = int64(request.max_mod_revision, 'max_mod_revision')
  const minCreate = int64(request.min_create_revision, 'min_create_revision')
  const maxCreate = int64(request.max_create_revision, 'max_create_revision')
  if (minMod === 0 && maxMod === 0 && minCreate === 0 && maxCreate === 0) return null
  return (item) => (minMod === 0 || item.version >= minMod) && (maxMod === 0 || item.version <= maxMod)
    && (minCreate === 0 || item.createRevision >= minCreate) && (maxCreate === 0 || item.createRevision <= maxCreate)
}
