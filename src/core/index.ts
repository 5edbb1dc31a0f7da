/**
 * The core's public surface. Everything else in src/core is internal.
 * @module
 */
export { AssertionError, assert, assertNever } from './assert.js'
export { ballotZero, compareBallots, formatBallot, nextBallot, type Ballot } from './ballot.js'
export { commandBytes, noopValue, type Command, type CompareOperator, type ProposalId, type ProposeResult, type RequestId, type TxnCommand, type TxnCompare, type TxnOp, type TxnSpec, type Value, type WriteCommand } from './command.js'
export type { CoreEvent, CoreEventSink } from './events.js'
export { isLeaseId, leaseId, nodeId, revision, revisionZero, slot, slotZero, type LeaseId, type NodeId, type Revision, type Slot } from './ids.js'
export { byteLimits, checkByteLimits, commandBytesMax, entryOverheadBytes, frameOverheadBytes, limits, messageOverheadBytes, type ByteLimits } from './limits.js'
export { entryBytes, messageBytes, valueBytes } from './message-size.js'
export type * from './messages.js'
export { forkRandom, randomBelow, randomChance, seededRandom, type Random } from './random.js'
export { isPersistEmpty, lastCommittedSlot, type PersistBatch, type ReadId, type ReadOutcome, type Ready, type SnapshotAction } from './ready.js'
export type * from './replica-port.js'
export { Replica } from './replica.js'
export { describeCommand, describeEnvelope, describeMessage, describeStatus, describeValue } from './describe.js'
