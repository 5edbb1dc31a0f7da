/**
 * Randomness is an input. The core only sees `Random`; the node seeds it from the OS and the
 * simulator from the run's seed, so a seed replays exactly.
 * @module
 */
import { assert } from './assert.js'

export interface Random {
  /** Uniform over [0, 2^32). */
  uint32(): number
}

/** Uniform integer in [0, bound). */
export function randomBelow(random: Random, bound: number): number {
  assert(Number.isSafeInteger(bound) && bound > 0 && bound <= 2 ** 32, `bad random bound ${bound}`)
  return random.uint32() % bound
}

/** True with probability numerator/denominator; integers only, so runs are bit-for-bit stable. */
export function randomChance(random: Random, numerator: number, denominator: number): boolean {
  assert(numerator >= 0 && numerator <= denominator, `bad chance ${numerator}/${denominator}`)
  if (numerator === 0) return false
  return randomBelow(random, denominator) < numerator
}

/** sfc32: small, fast, and good enough for fault injection and jitter. Pure arithmetic. */
export function seededRandom(seed: number): Random {
  let a = 0x9e3779b9 ^ seed
  let b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b)
  let c = 0xb7e15162
  let d = 1
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0
    let t = (a + b) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    d = (d + 1) | 0
    t = (t + d) | 0
    c = (c + t) | 0
    return t >>> 0
  }
  for (let warm = 0; warm < 15; warm += 1) next()
  return { uint32: next }
}

/** A child stream, so that adding draws on one stream does not shift another's. */
export function forkRandom(parent: Random): Random {
  return seededRandom(parent.uint32())
}
