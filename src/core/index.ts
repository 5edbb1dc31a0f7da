/**
 * The core's public surface. Everything else in src/core is internal.
 * @module
 */
export { AssertionError, assert, assertNever } from './assert.js'
export { ballotZero, compareBallots, formatBallot, nextBallot, type Ballot } from './ballot.js'
export { configEntries, isCoreEntry, noopValue, type AppCommand, type CommandPort, type CoreEntry, type Entry, type NoopEntry, type ProposalId, type ProposeResult, type Value } from './command.js'
export { configDelaySlots, governsFrom, memberListProblem, sameMembers, type ChosenConfig, type ConfigEntry, type ConfigMember, type MemberRole } from './configuration.js'
export type { CoreEvent, CoreEventSink } from './events.js'
export { isLeaseId, leaseId, nodeId, revision, revisionZero, slot, slotZero, type LeaseId, type NodeId, type Revision, type Slot } from './ids.js'
export { byteLimits, checkByteLimits, entryOverheadBytes, frameOverheadBytes, limits, messageOverheadBytes, type ByteLimits } from './limits.js'
export { MessageSizes } from './message-size.js'
export type * from './messages.js'
export { forkRandom, randomBelow, randomChance, seededRandom, type Random } from './random.js'
export { isPersistEmpty, lastCommittedSlot, type PersistBatch, type ReadId, type ReadOutcome, type Ready, type SnapshotAction } from './ready.js'
export type * from './replica-port.js'
export { Replica } from './replica.js'
export { describeEnvelope, describeMessage, describeStatus, describeValue, type DescribeCommand } from './describe.js'
