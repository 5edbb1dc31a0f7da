/**
 * Goal: the real core keeps agreement, ordered and exactly-once apply, its promises,
 * linearizability (and honest stale reads), durability and liveness under every seeded fault
 * schedule. Method: run seeds 1..SIM_SEEDS (default 200) for 3 and for
 * 5 nodes; a failure names the command that replays it. Long runs: `npm run sim -- --seeds 2000`.
 */
import { describe, expect, it } from 'vitest'
import { formatFailure, replayCommand, runSeed } from './run.js'

const seeds = Number(process.env.SIM_SEEDS ?? 200)
const only = process.env.SIM_SEED === undefined ? null : Number(process.env.SIM_SEED)

describe.each([3, 5])('simulation with %i nodes', (nodes) => {
  it(`${only === null ? `seeds 1..${seeds}` : `seed ${only}`}: no checker fails`, () => {
    const failures: string[] = []
    for (const seed of only === null ? Array.from({ length: seeds }, (_, index) => index + 1) : [only]) {
      const result = runSeed(seed, { nodes })
      if (result.failures.length > 0) failures.push(formatFailure(result, { nodes }))
    }
    expect(failures, `replay a seed with: ${replayCommand(0, { nodes }).replace(' 0', ' <seed>')}`).toEqual([])
  }, 240_000) // on a shared, busy machine 200 five-node seeds have taken over 70 s
})
