/**
 * etcd keys are bytes; paxos-kv keys are 1 to 1024 bytes of UTF-8 without NUL. A key to write
 * must be one of ours (INVALID_ARGUMENT otherwise); a key or bound to read need not be: one
 * that cannot be ours matches nothing, and a range bound is compared in key order (UTF-8 byte
 * order, the order etcd compares bytes in).
 * @module
 */
import { limits } from '../../core/limits.js'
import { compareKeys } from '../../kv/key-order.js'
import type { KeyRange } from '../../kv/key-range.js'
import { EtcdError } from './etcd-errors.js'

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes)
  } catch {
    return null
  }
}

/** A key a write names: one paxos-kv can hold, or INVALID_ARGUMENT saying why not. */
export function writeKey(bytes: Uint8Array): string {
  if (bytes.byteLength === 0) throw new EtcdError('empty_key')
  if (bytes.byteLength > limits.keyBytesMax) throw new EtcdError('bad_request', `key is ${bytes.byteLength} bytes; the limit is ${limits.keyBytesMax}`)
  const key = decodeUtf8(bytes)
  if (key === null) throw new EtcdError('bad_request', 'keys must be valid UTF-8')
  if (key.includes('\u0000')) throw new EtcdError('bad_request', 'keys must not contain NUL')
  return key
}

/** What a Range or DeleteRange names: one key (null: one that cannot exist), a range, or nothing. */
export type KeySelection =
  | Readonly<{ type: 'single'; key: string | null }>
  | Readonly<{ type: 'range'; range: KeyRange }>
  | Readonly<{ type: 'empty' }>

/** etcd's prefix end: the key with its last byte below 0xff incremented, the rest cut; [0] when there is none. */
export function prefixEnd(key: Uint8Array): Uint8Array {
  for (let index = key.byteLength - 1; index >= 0; index -= 1) {
    if (key[index]! < 0xff) {
      const end = key.slice(0, index + 1)
      end[index]! += 1
      return end
    }
  }
  return Uint8Array.of(0)
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0
}

/**
 * etcd's key and range_end: range_end empty is the key alone, "\0" every key from `key` on, the
 * key's prefix end its prefix, anything else the interval [key, range_end).
 */
export function keySelection(key: Uint8Array, rangeEnd: Uint8Array): KeySelection {
  if (key.byteLength === 0) throw new EtcdError('empty_key')
  if (rangeEnd.byteLength === 0) {
    const text = decodeUtf8(key)
    const holdable = text !== null && key.byteLength <= limits.keyBytesMax && !text.includes('\u0000')
    return { type: 'single', key: holdable ? text : null }
  }
  const start = decodeUtf8(key)
  if (start === null) throw new EtcdError('bad_request', 'a range must start at valid UTF-8')
  // Tried first: a prefix end may not be valid UTF-8 (a key ending in U+007F gives 0x80).
  if (sameBytes(rangeEnd, prefixEnd(key)) && !(rangeEnd.byteLength === 1 && rangeEnd[0] === 0)) return { type: 'range', range: { type: 'prefix', prefix: start } }
  if (rangeEnd.byteLength === 1 && rangeEnd[0] === 0) return { type: 'range', range: { type: 'interval', start, end: null } }
  const end = decodeUtf8(rangeEnd)
  if (end === null) throw new EtcdError('bad_request', 'range_end must be valid UTF-8 or the key\'s prefix end')
  if (compareKeys(start, end) >= 0) return { type: 'empty' }
  return { type: 'range', range: { type: 'interval', start, end } }
}
