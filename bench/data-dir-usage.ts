/**
 * What a node's data directory holds on disk, read from outside the running node (the bench's
 * disk and restart figures).
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Every file in the tree; a file deleted between the listing and its stat counts 0. */
export function directoryBytes(path: string): number {
  let total = 0
  for (const name of readdirSync(path, { recursive: true }) as string[]) {
    const stat = statSync(join(path, name), { throwIfNoEntry: false })
    if (stat?.isFile() === true) total += stat.size
  }
  return total
}

/** The newest complete snapshot file's size in `snapshotsDir` (names sort by slot; temporary files are skipped); 0 for none. */
export function newestSnapshotBytes(snapshotsDir: string): number {
  const names = readdirSync(snapshotsDir).filter((name) => /^snapshot-\d{16}\.snap$/.test(name)).sort()
  return names.length === 0 ? 0 : statSync(join(snapshotsDir, names.at(-1)!), { throwIfNoEntry: false })?.size ?? 0
}
