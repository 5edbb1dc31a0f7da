/**
 * A key's entry after a put: the one rule for key metadata, shared by puts and txns.
 * @module
 */
import type { LeaseId, Revision } from '../core/ids.js'
import type { StoredValue } from './kv-store.js'

/**
 * A new key is created at `at` (etcd's create_revision, per-key version 1); an existing one keeps
 * its creation and counts one more write. The lease is the put's own: a put without one detaches
 * the key from its old lease, as in etcd.
 */
export function written(existing: StoredValue | null, value: Uint8Array, at: Revision, lease: LeaseId | null): StoredValue {
  return { value, version: at, createRevision: existing?.createRevision ?? at, writes: (existing?.writes ?? 0) + 1, lease }
}
