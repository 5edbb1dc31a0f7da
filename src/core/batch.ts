/**
 * Cutting queued commands into one slot's batch: pure, bounded by count and bytes.
 * @module
 */
import { assert } from './assert.js'
import { commandBytes, type Value, type WriteCommand } from './command.js'
import { limits } from './limits.js'

/** Removes and returns the next batch from the front of `queue`; at least one command. */
export function cutBatch(queue: WriteCommand[]): Value {
  assert(queue.length > 0, 'cutting a batch from an empty queue')
  let count = 0
  let bytes = 0
  for (const command of queue) {
    const size = commandBytes(command)
    if (count > 0 && (count >= limits.batchCommandsMax || bytes + size > limits.batchBytesMax)) break
    count += 1
    bytes += size
  }
  return queue.splice(0, count)
}
