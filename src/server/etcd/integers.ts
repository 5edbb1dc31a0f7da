/**
 * etcd's int64 fields arrive as decimal strings; paxos-kv's counters are safe integers.
 * @module
 */
import { isLeaseId, leaseId, type LeaseId } from '../../core/ids.js'
import { EtcdError } from './etcd-errors.js'

/** A decoded int64 as a number; INVALID_ARGUMENT past the safe-integer range (no revision or limit gets there). */
export function int64(text: string, field: string): number {
  const value = Number(text)
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) throw new EtcdError('bad_request', `${field} ${text} is out of range`)
  return value
}

/** An etcd lease id (int64) as ours; null for one no lease can have (0 is none; negative ones). */
export function leaseOf(text: string): LeaseId | null {
  return isLeaseId(text) ? leaseId(text) : null
}
