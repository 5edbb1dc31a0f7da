/**
 * Goal: the simulator has teeth. Each deliberately broken core or storage must be caught.
 * Method: run seeds from 1 until the first failure and check that it came from a checker or a
 * core assertion, not from nowhere. Then, for the broken protocol roles, run seeds until a checker of
 * consequences (agreement, durability, linearizability, ...), not the promise checker, catches
 * one: the breakage really leads to lost or divergent writes. A forgotten promise has not done
 * so in any seed we ran (the old leader must still count votes in the few ticks between the
 * restart and the next message in the new ballot); the promise checker sees it in most seeds.
 * `amnesia` (a member whose disk is wiped at each restart, voting again as if new) leads to lost
 * writes (and, in some seeds, two values chosen for one slot). `blind-retry` breaks no protocol rule at all, only the servers' forwarding: its consequence is
 * one client write applied twice.
 */
import { describe, expect, it } from 'vitest'
import { sabotages, type SimSabotage } from './options.js'
import { runSeed } from './run.js'

const checkers = /^(agreement|ordered-apply|exactly-once|promises|snapshot-restore|linearizability|stale-reads|durability|liveness|disruption|message-sizes|lease-safety|lease-liveness|assertion)/

function firstCaught(sabotage: SimSabotage, seedsMax: number, counts: (failure: string) => boolean): { seed: number; failure: string } | null {
  for (let seed = 1; seed <= seedsMax; seed += 1) {
    const failure = runSeed(seed, { sabotage }).failures.find(counts)
    if (failure !== undefined) return { seed, failure }
  }
  return null
}

/**
 * blind-retry bites only where a forward's outcome was lost and the retry lands under a new
 * leader: about 1 seed in 5 or 6 (19 of seeds 1..100 with 3 nodes, before compaction ran in the
 * seeds). Where the first one falls moves with the fault schedule (seed 25 with an earlier draw
 * of the compaction limits, seed 1 with today's): the bound leaves room for that.
 */
const seedsToCatch = (sabotage: SimSabotage): number => (sabotage === 'blind-retry' ? 60 : 20)

/**
 * lease-ignore-epoch bites only where an older leader's expiry is chosen after a newer leader's
 * marker and a renewal by that leader: no seed of 1..1000 at 3 nodes or at 5 nodes met it (the
 * gap it reopens showed in 1 of 500 seeds at 5 nodes before the epoch existed). Far too rare for
 * a run of seeds; test/sim/lease-epoch-scenario.test.ts builds that interleaving and catches it
 * every time.
 */
const directed: ReadonlySet<SimSabotage> = new Set(['lease-ignore-epoch'])

describe('sabotage is caught', () => {
  it.each(sabotages.filter((sabotage) => !directed.has(sabotage)).map((sabotage) => [sabotage, seedsToCatch(sabotage)] as const))('%s, within %i seeds', (sabotage, seedsMax) => {
    const caught = firstCaught(sabotage, seedsMax, () => true)
    expect(caught, `${sabotage} was not caught in ${seedsMax} seeds`).not.toBeNull()
    expect(caught!.failure).toMatch(checkers)
  }, 120_000)

  it('lease-never-expire is caught by the lease-liveness checker, within 20 seeds', () => {
    const caught = firstCaught('lease-never-expire', 20, (failure) => failure.startsWith('lease-liveness'))
    expect(caught, 'no lease-liveness failure for lease-never-expire in 20 seeds').not.toBeNull()
  }, 120_000)

  const consequences: [SimSabotage, number][] = [['accept-below-promise', 200], ['ignore-reported-value', 20], ['minority-commit', 20], ['blind-retry', seedsToCatch('blind-retry')], ['amnesia', 20]]
  it.each(consequences)('%s leads to lost or divergent writes within %i seeds', (sabotage, seedsMax) => {
    const caught = firstCaught(sabotage, seedsMax, (failure) => !failure.startsWith('promises'))
    expect(caught, `no consequence of ${sabotage} in ${seedsMax} seeds`).not.toBeNull()
    expect(caught!.failure).toMatch(checkers)
  }, 120_000)
})
