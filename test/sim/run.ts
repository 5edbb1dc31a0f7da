/**
 * Runs seeds and reports: the shared entry point of `npm run sim` and the vitest suites.
 */
import { optionsFromSeed, type SimSabotage } from './options.js'
import { Simulator, type SimResult } from './simulator.js'

export function runSeed(seed: number, overrides: { nodes?: number; sabotage?: SimSabotage | null } = {}): SimResult {
  return new Simulator(optionsFromSeed(seed, overrides)).run()
}

/** Always names the cluster size: `--nodes` changes nothing else, so the command is exact. */
export function replayCommand(seed: number, overrides: { nodes?: number; sabotage?: SimSabotage | null }): string {
  const nodes = overrides.nodes ?? optionsFromSeed(seed, overrides).nodes
  const sabotage = overrides.sabotage == null ? '' : ` --sabotage ${overrides.sabotage}`
  return `npm run sim -- --seed ${seed} --nodes ${nodes}${sabotage}`
}

export function formatFailure(result: SimResult, overrides: { nodes?: number; sabotage?: SimSabotage | null }): string {
  return [
    `seed ${result.seed} FAILED (${result.stats})`,
    ...result.failures.map((failure) => `  ${failure}`),
    `  replay with: ${replayCommand(result.seed, overrides)}`,
    '  trace tail:',
    ...result.traceTail.map((line) => `    ${line}`),
  ].join('\n')
}
