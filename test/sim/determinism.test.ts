/**
 * Goal: a seed replays exactly. Method: run seeds twice and compare trace hashes and histories;
 * run them again as the printed replay command would (with --nodes); different seeds must give
 * different traces (or the hash proves nothing).
 */
import { describe, expect, it } from 'vitest'
import { optionsFromSeed } from './options.js'
import { Simulator } from './simulator.js'

function run(seed: number) {
  const simulator = new Simulator(optionsFromSeed(seed))
  const result = simulator.run()
  return { hash: result.traceHash, lines: simulator.trace.length, history: JSON.stringify(simulator.history.ops) }
}

describe('determinism', () => {
  it.each([1, 17, 404])('seed %i twice gives the same trace and history', (seed) => {
    expect(run(seed)).toEqual(run(seed))
  })

  it('the replay command, which names the cluster size, replays the very same run', () => {
    for (const seed of [1, 2, 3]) {
      const drawn = optionsFromSeed(seed).nodes
      expect(new Simulator(optionsFromSeed(seed, { nodes: drawn })).run().traceHash).toBe(run(seed).hash)
    }
  })

  it('different seeds give different traces', () => {
    const hashes = new Set([1, 2, 3, 4, 5].map((seed) => run(seed).hash))
    expect(hashes.size).toBe(5)
  })
})
