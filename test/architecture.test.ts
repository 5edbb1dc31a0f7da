/**
 * Goal: the seams of the design hold, as directory import rules. src/core stays pure (rule 1)
 * and imports only itself; src/kv only kv and core; src/storage, src/transport and
 * src/observability only themselves and core (storage and transport never see the server or
 * the KV); src/server never imports the node (it owns the NodeService port the node
 * implements); src/cli reaches src/node only through the composition root, and nothing outside
 * src/cli imports it but src/cli.ts; only the composition root builds a concrete storage or
 * state machine; outside src/core only src/node/clock.ts reads the clock (so tests can drive
 * time). Method: scan every source's imports and code; each rule is also fed a source that
 * breaks it, and must say so.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { posix } from 'node:path'
import { describe, expect, it } from 'vitest'

const srcDir = new URL('../src/', import.meta.url)
const sources = (readdirSync(srcDir, { recursive: true }) as string[]).filter((name) => name.endsWith('.ts')).map((name) => name.split('\\').join('/'))
const read = (name: string): string => readFileSync(new URL(name, srcDir), 'utf8')

/** The directory a source under src/ belongs to: `kv` for kv/txn.ts, `cli.ts` for cli.ts itself. */
const areaOf = (name: string): string => (name.includes('/') ? name.slice(0, name.indexOf('/')) : name)

/** Which areas each area may import, itself included. The arrows of the design's diagram. */
const allowed: Readonly<Record<string, readonly string[]>> = {
  core: ['core'],
  kv: ['kv', 'core'],
  storage: ['storage', 'core'],
  transport: ['transport', 'core'],
  observability: ['observability', 'core'],
  config: ['config', 'core', 'observability'],
  server: ['server', 'core', 'kv', 'transport', 'observability'],
  node: ['node', 'core', 'kv', 'storage', 'transport', 'server', 'config', 'observability'],
  cli: ['cli', 'core', 'config', 'observability', 'storage', 'node'],
  'cli.ts': ['cli'],
}
/** Files of an area that another area may import only through one door. */
const onlyThrough: ReadonlyArray<Readonly<{ importer: string; area: string; file: string }>> = [
  { importer: 'cli', area: 'node', file: 'node/compose.ts' },
]

/** Every relative import of a source, resolved to a path under src/ (`.js` read as `.ts`). */
function importsOf(name: string, source: string): string[] {
  const specifiers = [...source.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)].map((match) => match[1]!)
  return specifiers.filter((specifier) => specifier.startsWith('.')).map((specifier) => posix.normalize(posix.join(posix.dirname(name), specifier)).replace(/\.js$/, '.ts'))
}

/** Why `source`, the file `name` under src/, breaks the import rules; empty when it does not. */
function importViolations(name: string, source: string): string[] {
  const area = areaOf(name)
  const mayImport = allowed[area]
  if (mayImport === undefined) return [`${name}: src/${area} has no import rule`]
  const violations: string[] = []
  for (const target of importsOf(name, source)) {
    const targetArea = areaOf(target)
    if (target.startsWith('..')) violations.push(`${name} imports ${target}, outside src`)
    else if (!mayImport.includes(targetArea)) violations.push(`${name} (src/${area}) imports ${target} (src/${targetArea})`)
    else if (onlyThrough.some((door) => door.importer === area && door.area === targetArea && door.file !== target)) violations.push(`${name} imports ${target}: src/${area} reaches src/${targetArea} only through its door`)
  }
  return violations
}

describe('the seams: directory import rules', () => {
  it('has sources to check, and a rule for every area', () => {
    expect(sources.length).toBeGreaterThan(100)
    expect(new Set(sources.map(areaOf))).toEqual(new Set(Object.keys(allowed)))
  })
  it.each(sources)('%s imports only what its area may', (name) => expect(importViolations(name, read(name))).toEqual([]))

  it.each([
    ['core/x.ts', "import { z } from 'zod'\nimport { kvCommands } from '../kv/command.js'", ['core/x.ts (src/core) imports kv/command.ts (src/kv)']],
    ['kv/x.ts', "import type { NodeService } from '../server/node-service.js'", ['kv/x.ts (src/kv) imports server/node-service.ts (src/server)']],
    ['transport/x.ts', "import { ApiError } from '../server/errors.js'", ['transport/x.ts (src/transport) imports server/errors.ts (src/server)']],
    ['storage/x.ts', "const { KvStateMachine } = await import('../kv/kv-state-machine.js')", ['storage/x.ts (src/storage) imports kv/kv-state-machine.ts (src/kv)']],
    ['server/x.ts', "import { PaxosNode } from '../node/node.js'", ['server/x.ts (src/server) imports node/node.ts (src/node)']],
    ['node/x.ts', "import { runServe } from '../cli/serve.js'", ['node/x.ts (src/node) imports cli/serve.ts (src/cli)']],
    ['cli/x.ts', "import { PaxosNode } from '../node/node.js'", ['cli/x.ts imports node/node.ts: src/cli reaches src/node only through its door']],
    ['kv/x.ts', "import '../../test/sim/run.js'", ['kv/x.ts imports ../test/sim/run.ts, outside src']],
  ])('the rules catch a forbidden import in %s', (name, source, expected) => {
    expect(importViolations(name, source)).toEqual(expected)
  })
  it('the rules let allowed imports through', () => {
    expect(importViolations('cli/x.ts', "import { composeNode } from '../node/compose.js'\nimport { limits } from '../core/limits.js'")).toEqual([])
    expect(importViolations('kv/x.ts', "import { z } from 'zod'\nimport type { Slot } from '../core/ids.js'\nimport { key } from './key-order.js'")).toEqual([])
  })
})

describe('only the composition root builds a concrete storage or state machine', () => {
  const builds = /\bnew KvStateMachine\(|\bopenNodeStorage\s*(<[^>]*>)?\(/
  const builders = (files: readonly string[], text: (name: string) => string) => files.filter((name) => !name.startsWith('storage/') && builds.test(text(name)))
  it('src/node/compose.ts is the only one', () => expect(builders(sources, read)).toEqual(['node/compose.ts']))
  it('the scan sees a second builder', () => {
    const fake: Record<string, string> = { 'node/compose.ts': 'new KvStateMachine({})', 'server/x.ts': 'const storage = openNodeStorage<C>(options)' }
    expect(builders(Object.keys(fake), (name) => fake[name]!)).toEqual(['node/compose.ts', 'server/x.ts'])
  })
})

const coreFiles = sources.filter((name) => name.startsWith('core/'))
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

describe('src/core is pure', () => {
  it('has sources to check', () => expect(coreFiles.length).toBeGreaterThan(5))
  for (const file of coreFiles) {
    const source = read(file)
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
  const clockRead = /\bDate\.now\b|\bnew Date\b|\bperformance\.now\b|\bprocess\.hrtime\b/

  it('has sources to check', () => expect(sources.length).toBeGreaterThan(30))
  it.each(sources.filter((name) => name !== 'node/clock.ts'))('%s reads no clock', (name) => {
    expect(read(name)).not.toMatch(clockRead)
  })
  it('the scan sees the clock where it is', () => expect(read('node/clock.ts')).toMatch(clockRead))
})
