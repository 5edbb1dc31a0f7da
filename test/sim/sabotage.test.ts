/**
 * Goal: the simulator has teeth. Each deliberately broken core or storage must be caught.
 * Method: run seeds from 1 until the first failure (at most 2000) and check that the failure
 * came from a checker or a core assertion, not from nowhere.
 */
import { describe, expect, it } from 'vitest'
import { sabotages } from './options.js'
import { runSeed } from './run.js'

describe('sabotage is caught', () => {
  it.each(sabotages)('%s', (sabotage) => {
    let caught: { seed: number; failures: string[] } | null = null
    for (let seed = 1; seed <= 2000 && caught === null; seed += 1) {
      const result = runSeed(seed, { sabotage })
      if (result.failures.length > 0) caught = { seed, failures: result.failures }
    }
    expect(caught, `${sabotage} was not caught in 2000 seeds`).not.toBeNull()
    console.log(`${sabotage}: caught at seed ${caught!.seed}: ${caught!.failures[0]!.split('\n')[0]!.slice(0, 160)}`)
    expect(caught!.failures[0]).toMatch(/^(agreement|ordered-apply|linearizability|durability|liveness|assertion)/)
  }, 300_000)
})
