/**
 * `mkdir -p` that always ends. Node's `mkdirSync(path, { recursive: true })` loops forever on
 * file systems such as /proc, where mkdir of a missing child answers ENOENT although the parent
 * exists (a node given `--data /proc/x` spun at 100% CPU and ignored SIGTERM). Each level is
 * made once, parents first, and the first failure is thrown.
 * @module
 */
import { mkdirSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

export function makeDirectory(path: string): void {
  const missing: string[] = []
  let at = resolve(path)
  for (;;) {
    const kind = kindOf(at)
    if (kind === 'directory') break
    if (kind === 'other') throw Object.assign(new Error(`${at} exists and is not a directory`), { code: 'ENOTDIR' })
    missing.push(at)
    const parent = dirname(at)
    if (parent === at) break
    at = parent
  }
  for (const directory of missing.reverse()) {
    try {
      mkdirSync(directory)
    } catch (error) {
      // Another process may have made it meanwhile: that is success.
      if ((error as { code?: unknown }).code !== 'EEXIST' || kindOf(directory) !== 'directory') throw error
    }
  }
}

function kindOf(path: string): 'directory' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'other'
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return 'missing'
    throw error
  }
}
