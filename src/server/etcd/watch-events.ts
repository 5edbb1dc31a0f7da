/**
 * What a watch sends, built from the change history: a key's change as etcd's event (a delete
 * as the key and its mod_revision alone, prev_kv the entry the change replaced), which events a
 * watch selects, and a response's events cut into fragments when the watch asked for them.
 * @module
 */
import type { Revision } from '../../core/ids.js'
import type { Change } from '../../kv/change-history.js'
import { inKeyRange } from '../../kv/key-range.js'
import { keySelection } from './keys.js'
import { keyValue } from './kv-answers.js'
import type { WatchCreateRequest, WatchEvent } from './messages.js'

/** Which changes one watch sends (etcd's key and range_end, and its filters). */
export type WatchSelector = Readonly<{ matches: (key: string) => boolean; noPut: boolean; noDelete: boolean; prevKv: boolean }>

/**
 * A create's selector. etcd watches an empty key too: alone it is a key that never exists; as
 * the start of a range it is the lowest key, as "\0" is for paxos-kv (whose keys have no NUL).
 */
export function watchSelector(create: WatchCreateRequest): WatchSelector {
  const empty = create.key.byteLength === 0
  const selection = empty && create.range_end.byteLength === 0 ? { type: 'empty' as const } : keySelection(empty ? Uint8Array.of(0) : create.key, create.range_end)
  const matches = selection.type === 'empty'
    ? () => false
    : selection.type === 'single'
      ? (key: string) => key === selection.key
      : (key: string) => inKeyRange(selection.range, key)
  return { matches, noPut: create.filters.includes('NOPUT'), noDelete: create.filters.includes('NODELETE'), prevKv: create.prev_kv }
}

export function selects(selector: WatchSelector, change: Change): boolean {
  if (change.type === 'put' ? selector.noPut : selector.noDelete) return false
  return selector.matches(change.key)
}

/** A change applied at revision `at`, as etcd's watch event. */
export function watchEvent(at: Revision, change: Change, prevKv: boolean): WatchEvent {
  const key = Buffer.from(change.key)
  const kv = change.type === 'put'
    ? keyValue({ key: change.key, value: change.value!, version: at, createRevision: change.createRevision, writes: change.writes, lease: change.lease }, false)
    : { key, create_revision: '0', mod_revision: String(at), version: '0', value: Buffer.alloc(0), lease: '0' }
  const prev = prevKv && change.prev !== null ? keyValue({ key: change.key, ...change.prev }, false) : null
  return { type: change.type === 'put' ? 'PUT' : 'DELETE', kv, prev_kv: prev }
}

/** An estimate of an event's encoded size: its key and values, and the fields around them. */
export function eventBytes(event: WatchEvent): number {
  return 64 + event.kv.key.byteLength + event.kv.value.byteLength + (event.prev_kv === null ? 0 : event.prev_kv.key.byteLength + event.prev_kv.value.byteLength)
}

/**
 * One response's events cut into fragments of at most `bytesMax` (each at least one event), as
 * etcd does for a watch created with `fragment`; one part when they fit.
 */
export function fragments(events: readonly WatchEvent[], bytesMax: number): WatchEvent[][] {
  const parts: WatchEvent[][] = [[]]
  let bytes = 0
  for (const event of events) {
    const size = eventBytes(event)
    const current = parts.at(-1)!
    if (current.length > 0 && bytes + size > bytesMax) {
      parts.push([event])
      bytes = size
      continue
    }
    current.push(event)
    bytes += size
  }
  return parts
}
