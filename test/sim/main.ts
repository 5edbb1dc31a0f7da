/**
 * npm run sim -- --seeds N [--nodes 3|5] [--seed S] [--first F] [--sabotage NAME]
 * The last line is exactly `N seeds, F failed`; the exit code is 0 only when F is 0.
 */
import { parseArgs } from 'node:util'
import { sabotages, type SimSabotage } from './options.js'
import { formatFailure, runSeed } from './run.js'

const usage = 'usage: npm run sim -- [--seeds N] [--first F] [--seed S] [--nodes 3|5] [--sabotage NAME] [--verbose]'

function fail(message: string): never {
  process.stderr.write(`sim: ${message}\n${usage}\n`)
  process.exit(2)
}

/** Bad flags get one line and the usage, not a stack trace. */
function parseFlags() {
  try {
    return parseArgs({
      options: {
        seeds: { type: 'string' },
        seed: { type: 'string' },
        first: { type: 'string', default: '1' },
        nodes: { type: 'string' },
        sabotage: { type: 'string' },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error))
  }
}

const values = parseFlags()
if (values.help) {
  process.stdout.write(`${usage}\nsabotages: ${sabotages.join(', ')}\n`)
  process.exit(0)
}

const nodes = values.nodes === undefined ? undefined : Number(values.nodes)
if (nodes !== undefined && nodes !== 3 && nodes !== 5) fail('--nodes must be 3 or 5')
const sabotage = (values.sabotage ?? null) as SimSabotage | null
if (sabotage !== null && !sabotages.includes(sabotage)) fail(`--sabotage must be one of ${sabotages.join(', ')}`)
const seeds = values.seed !== undefined
  ? [Number(values.seed)]
  : Array.from({ length: Number(values.seeds ?? 100) }, (_, index) => Number(values.first) + index)
if (seeds.some((seed) => !Number.isSafeInteger(seed) || seed < 0)) fail('seeds are non-negative integers')

const overrides = { ...(nodes === undefined ? {} : { nodes }), sabotage }
let failed = 0
const started = performance.now()
for (const [index, seed] of seeds.entries()) {
  const result = runSeed(seed, overrides)
  if (result.failures.length > 0) {
    failed += 1
    process.stdout.write(`${formatFailure(result, overrides)}\n`)
  } else if (values.verbose || seeds.length === 1) {
    process.stdout.write(`seed ${seed} ok (${result.stats}, trace ${result.traceHash})\n`)
  }
  if ((index + 1) % 100 === 0) process.stderr.write(`sim: ${index + 1}/${seeds.length} seeds, ${failed} failed, ${Math.round((performance.now() - started) / 1000)} s\n`)
}
process.stdout.write(`${seeds.length} seeds, ${failed} failed\n`)
process.exitCode = failed === 0 ? 0 : 1
