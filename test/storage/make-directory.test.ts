/**
 * makeDirectory: `mkdir -p` that makes missing levels, accepts existing ones, and fails (rather
 * than spins, as Node's recursive mkdir does on /proc) where a level cannot be made.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeDirectory } from '../../src/storage/make-directory.js'

const roots: string[] = []
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
})

function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'make-directory-'))
  roots.push(root)
  return root
}

describe('makeDirectory', () => {
  it('makes every missing level and accepts one that exists', () => {
    const root = tempRoot()
    const deep = join(root, 'a', 'b', 'c')
    makeDirectory(deep)
    expect(statSync(deep).isDirectory()).toBe(true)
    makeDirectory(deep)
    makeDirectory(root)
  })

  it('refuses a path through a file', () => {
    const root = tempRoot()
    writeFileSync(join(root, 'file'), 'x')
    expect(() => makeDirectory(join(root, 'file', 'sub'))).toThrow(/not a directory/)
    expect(() => makeDirectory(join(root, 'file'))).toThrow(/not a directory/)
  })

  it.runIf(existsSync('/proc/self'))('fails at once under /proc instead of looping', () => {
    expect(() => makeDirectory('/proc/paxos-kv-no-such-dir/data')).toThrow()
    expect(existsSync('/proc/paxos-kv-no-such-dir')).toBe(false)
  })
})
