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

function checkedInteger(value: number, what: string, min: number): number {
  assert(Number.isSafeInteger(value), `${what} ${value} is not a safe integer`)
  assert(value >= min, `${what} ${value} is below ${min}`)
  return value
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

export const slotZero = slot(0)
export const revisionZero = revision(0)
