/**
 * Cutting queued commands into one slot's batch: pure, bounded by count and bytes.
 * @module
 */
import { assert } from './assert.js'
import type { AppCommand, CommandPort } from './command.js'
import { limits } from './limits.js'

/**
 * How many commands from the front of `queue` make the next batch, and the batch's estimated
 * bytes as a value (valueBytes: the commands and the array around them).
 */
export function nextBatch<C extends AppCommand>(commands: CommandPort<C>, queue: readonly C[], batchBytesMax: number): { count: number; bytes: number } {
  assert(queue.length > 0, 'cutting a batch from an empty queue')
  let count = 0
  let bytes = 2
  for (const command of queue) {
    const size = commands.bytes(command) + 1
    if (count > 0 && (count >= limits.batchCommandsMax || bytes + size > batchBytesMax)) break
    count += 1
    bytes += size
  }
  return { count, bytes }
}

/** Removes and returns the next batch from the front of `queue`; at least one command. */
export function cutBatch<C extends AppCommand>(commands: CommandPort<C>, queue: C[], batchBytesMax: number): C[] {
  return queue.splice(0, nextBatch(commands, queue, batchBytesMax).count)
}
