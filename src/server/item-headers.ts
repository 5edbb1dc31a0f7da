/**
 * A key's metadata on the wire: as headers on GET /v1/kv/{key}, and as the JSON item of a
 * listing (and of a txn's get and list results). One place, so the two never drift apart.
 * @module
 */
import type { Revision } from '../core/ids.js'
import type { KvItem } from '../kv/state-machine.js'

export const itemHeaderNames = ['x-version', 'x-create-revision', 'x-writes', 'x-lease', 'x-revision'] as const

/** `revision`: the store's revision the read saw. X-Lease only when the key has one. */
export function itemHeaders(item: KvItem, revision: Revision): Record<string, string> {
  const headers: Record<string, string> = {
    'x-version': String(item.version),
    'x-create-revision': String(item.createRevision),
    'x-writes': String(item.writes),
    'x-revision': String(revision),
  }
  if (item.lease !== null) headers['x-lease'] = item.lease
  return headers
}

export type ItemJson = Readonly<{ key: string; version: number; createRevision: number; writes: number; lease: string | null; value: string }>

/** The value in base64, as every JSON answer carries values. */
export function itemJson(item: KvItem): ItemJson {
  return { key: item.key, version: item.version, createRevision: item.createRevision, writes: item.writes, lease: item.lease, value: Buffer.from(item.value).toString('base64') }
}
