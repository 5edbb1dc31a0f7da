/**
 * Goal: the memory SnapshotStore meets the contract.
 * Method: the shared suite; a reopen is the same object (what a simulated disk keeps).
 */
import { MemorySnapshotStore } from '../../src/storage/memory-snapshot-store.js'
import { runSnapshotStoreContract } from './snapshot-store-contract.js'

runSnapshotStoreContract('memory', () => {
  const store = new MemorySnapshotStore()
  return { store, reopen: () => store }
})
