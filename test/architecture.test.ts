/**
 * Goal: src/core stays pure (rule 1), and outside it only src/node/clock.ts reads the clock (so
 * tests can drive time). Method: scan every core source for imports from outside src/core and
 * for clocks, randomness, timers, process access and async code; scan all of src for clock reads.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const coreDir = new URL('../src/core/', import.meta.url)
const forbidden: ReadonlyArray<readonly [string, RegExp]> = [
  ['import from outside src/core', /from\s+['"](?!\.\/)/],
  ['dynamic import from outside src/core', /import\(\s*['"](?!\.\/)/],
  ['Date', /\bDate\b/],
  ['Math.random', /\bMath\.random\b/],
  ['performance', /\bperformance\./],
  ['timers', /\b(setTimeout|setInterval|setImmediate|queueMicrotask)\b/],
  ['process', /\bprocess\./],
  ['async', /\basync\b|\bawait\b/],
  ['require', /\brequire\(/],
]

const files = readdirSync(coreDir).filter((name) => name.endsWith('.ts'))

describe('src/core is pure', () => {
  it('has sources to check', () => expect(files.length).toBeGreaterThan(5))
  for (const file of files) {
    const source = readFileSync(new URL(file, coreDir), 'utf8')
    it.each(forbidden)(`${file}: no %s`, (_label, pattern) => expect(source).not.toMatch(pattern))
  }
  it('the scan catches a forbidden pattern', () => {
    const dirty = "import { readFileSync } from 'node:fs'\nconst now = Date.now()"
    expect(forbidden.filter(([, pattern]) => pattern.test(dirty)).map(([label]) => label)).toEqual([
      'import from outside src/core',
      'Date',
    ])
  })
})

describe('only src/node/clock.ts reads the clock', () => {
  const srcDir = new URL('../src/', import.meta.url)
  const sources = (readdirSync(srcDir, { recursive: true }) as string[]).filter((name) => name.endsWith('.ts'))
  const clockRead = /\bDate\.now\b|\bnew Date\b|\bperformance\.now\b|\bprocess\.hrtime\b/

  it('has sources to check', () => expect(sources.length).toBeGreaterThan(30))
  it.each(sources.filter((name) => name !== 'node/clock.ts'))('%s reads no clock', (name) => {
    expect(readFileSync(new URL(name, srcDir), 'utf8')).not.toMatch(clockRead)
  })
  it('the scan sees the clock where it is', () => expect(readFileSync(new URL('node/clock.ts', srcDir), 'utf8')).toMatch(clockRead))
})
