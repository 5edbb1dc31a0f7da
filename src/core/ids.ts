/**
 * Branded integers so that slots, revisions and node ids cannot be mixed up.
 * @module
 */
import { assert } from './assert.js'

declare const brand: unique symbol
type Brand<T, Name extends string> = T & { readonly [brand]: Name }

/** A log position. 1-based; 0 means "none". */
export type Slot = Brand<number, 'Slot'>
/** The KV write counter (the API's `version`); only applied writes increment it. */
export type Revision = Brand<number, 'Revision'>
/** A cluster member, 1..nodesMax. */
export type NodeId = Brand<number, 'NodeId'>
/**
 * A lease: a string of digits that fits a signed 64-bit integer (etcd clients carry lease ids as
 * int64), so it is kept as text: a JavaScript number loses digits past 2^53.
 */
export type LeaseId = Brand<string, 'LeaseId'>

/** Hot (every slot and revision made): the message is built only on failure. */
function checkedInteger(value: number, what: string, min: number): number {
  if (Number.isSafeInteger(value) && value >= min) return value
  assert(Number.isSafeInteger(value), `${what} ${value} is not a safe integer`)
  assert(false, `${what} ${value} is below ${min}`)
}

export function slot(value: number): Slot {
  return checkedInteger(value, 'slot', 0) as Slot
}

export function revision(value: number): Revision {
  return checkedInteger(value, 'revision', 0) as Revision
}

export function nodeId(value: number): NodeId {
  return checkedInteger(value, 'node id', 1) as NodeId
}

const int64Max = 9_223_372_036_854_775_807n

/** Whether `text` is a lease id: 1 to 19 digits, no leading zero, at most 2^63 - 1. */
export function isLeaseId(text: string): boolean {
  return /^[1-9][0-9]{0,18}$/.test(text) && BigInt(text) <= int64Max
}

export function leaseId(text: string): LeaseId {
  assert(isLeaseId(text), `lease id ${JSON.stringify(text)} is not 1..2^63-1 in digits`)
  return text as LeaseId
}

export const slotZero = slot(0)
export const revisionZero = revision(0)
