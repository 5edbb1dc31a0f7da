/**
 * Goal: MemoryLogStore meets the LogStore contract, and what it hands out or is given cannot be
 * changed by the caller afterwards (a crashed replica must not edit "the disk").
 * Method: the shared contract suite; mutations after append and after read.
 */
import { expect, it } from 'vitest'
import { nodeId, slot } from '../../src/core/index.js'
import { MemoryLogStore } from '../../src/storage/memory-log-store.js'
import { runLogStoreContract } from './log-store-contract.js'
import { type WriteCommand } from '../../src/kv/command.js'

runLogStoreContract('memory', () => {
  const log = new MemoryLogStore<WriteCommand>()
  return { log, close: () => {}, reopen: () => log }
})

it('memory: appended and read entries are copies', () => {
  const log = new MemoryLogStore<WriteCommand>()
  const entry = { slot: slot(1), ballot: { round: 1, node: nodeId(1) }, value: [{ type: 'noop' as const }], chosen: false }
  log.append([entry])
  ;(entry.value as unknown as unknown[]).push('mutated')
  const read = log.read(slot(1), 1)
  expect(read.type === 'entries' && read.entries[0]!.value).toHaveLength(1)
  if (read.type === 'entries') (read.entries[0]!.value as unknown as unknown[]).push('mutated')
  const again = log.read(slot(1), 1)
  expect(again.type === 'entries' && again.entries[0]!.value).toHaveLength(1)
})
