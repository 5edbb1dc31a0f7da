/**
 * Goal: MemoryAcceptorStorage meets the AcceptorStorage contract, and what it hands out cannot
 * be changed by the caller afterwards (a crashed replica must not edit "the disk").
 * Method: the shared contract suite; a mutation after persist.
 */
import { expect, it } from 'vitest'
import { nodeId, slot } from '../../src/core/index.js'
import { MemoryAcceptorStorage } from '../../src/storage/memory-storage.js'
import { runAcceptorStorageContract } from './acceptor-storage-contract.js'
import { type WriteCommand } from '../../src/kv/command.js'

runAcceptorStorageContract('memory', () => {
  const storage = new MemoryAcceptorStorage<WriteCommand>()
  return { storage, reopen: () => storage }
})

it('memory: persisted entries are copies', () => {
  const storage = new MemoryAcceptorStorage<WriteCommand>()
  const entry = { slot: slot(1), ballot: { round: 1, node: nodeId(1) }, value: [{ type: 'noop' as const }], chosen: false }
  storage.persist({ promised: null, entries: [entry] })
  ;(entry.value as unknown as unknown[]).push('mutated')
  expect(storage.load().entries[0]!.value).toHaveLength(1)
})
