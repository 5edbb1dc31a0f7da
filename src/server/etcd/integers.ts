/**
 * etcd's int64 fields arrive as decimal strings; paxos-kv's counters are safe integers.
 * @module
 */
import { EtcdError } from './etcd-errors.js'

/** A decoded int64 as a number; INVALID_ARGUMENT past the safe-integer range (no revision or limit gets there). */
export function int64(text: string, field: string): number {
  const value = Number(text)
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) throw new EtcdError('bad_request', `${field} ${text} is out of range`)
  return value
}
