/**
 * How the node's answers become etcd's: a key as a KeyValue, a write's outcome as applied or
 * as the etcd error that says why not.
 * @module
 */
import { AssertionError } from '../../core/assert.js'
import type { KvItem } from '../../kv/state-machine.js'
import type { WriteOutcome } from '../node-service.js'
import { EtcdError } from './etcd-errors.js'
import type { KeyValue } from './messages.js'

/** A key as etcd reports it: mod_revision is our version, etcd's per-key version our writes. */
export function keyValue(item: KvItem, keysOnly: boolean): KeyValue {
  return {
    key: Buffer.from(item.key),
    create_revision: String(item.createRevision),
    mod_revision: String(item.version),
    version: String(item.writes),
    value: keysOnly ? Buffer.alloc(0) : item.value,
    lease: item.lease ?? '0',
  }
}

/** A write's outcome past the forwarding loop: applied, or the etcd error that says why not. */
export function appliedWrite(outcome: WriteOutcome): Extract<WriteOutcome, { type: 'ok' | 'txn' }> {
  switch (outcome.type) {
    case 'ok':
    case 'txn':
      return outcome
    case 'overloaded':
      throw new EtcdError('overloaded', outcome.reason === 'records_full' ? 'too many recent forwarded writes are remembered to take another now' : 'the leader has too many writes in flight')
    case 'quota_exceeded':
      throw new EtcdError('quota_exceeded')
    case 'timeout':
      throw new EtcdError('timeout', 'the write was not confirmed in time; it may or may not have taken effect')
    case 'lease_not_found':
      throw new EtcdError('lease_not_found')
    case 'cas_mismatch':
    case 'idempotency_key_reused':
    case 'not_leader':
    case 'lease_granted':
    case 'lease_revoked':
      // Never sent with cas or an Idempotency-Key, nor as a lease call, and past the forwarding loop.
      throw new AssertionError(`an etcd write ended ${outcome.type}`)
  }
}
