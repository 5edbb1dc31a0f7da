/**
 * One seed → the whole run's shape (swarm testing, as in TigerBeetle's VOPR): cluster size,
 * fault rates and workload vary per seed, so different seeds stress different corners.
 */
import { checkByteLimits, entryOverheadBytes, frameOverheadBytes, messageOverheadBytes, randomBelow, seededRandom, type ByteLimits, type Random } from '../../src/core/index.js'
import type { BrokenPeers } from './broken-peers.js'

/**
 * Every sabotage is a broken part injected by the simulator; none is a switch in the core.
 * `forget-promise` breaks the disk, `blind-retry` the servers' forwarding (a retry after an
 * unknown outcome goes out as a new request, which the state machine cannot recognise),
 * `skip-pre-vote` the peers (every pre-vote is answered yes at once by every member, reached or
 * not, as if nodes campaigned without asking), `unbounded-reports` a node's promises and
 * catch-up replies (they ignore the byte bounds, see unbounded-reports.ts); `snapshot-stale-index`
 * the snapshots (one holds the state before a batch but claims the batch's slot);
 * `truncate-unapplied` the driver's compaction (it truncates the log through the applied index at
 * once, past the newest durable snapshot); `lease-expire-early` the leader's lease timers (they
 * count half of every TTL, broken-lease-timers.ts); `lease-never-expire` the leader's lease keeper
 * (it never names a lease to revoke, broken-lease-keeper.ts); `lease-ignore-epoch` the state
 * machine (it applies an expiry's revoke however old its leader, broken-lease-epoch.ts); `amnesia` a member's disk (wiped at each of
 * its restarts, it votes again as if new: the peers' incarnation check is what forbids it);
 * `ignore-config` node 1's configuration tracker (it never takes in a new configuration, so it
 * counts quorums against the members it started with, broken-configurations.ts); the
 * rest are broken acceptors and proposers, as rewrites of their messages (broken-peers.ts).
 */
export type SimSabotage = BrokenPeers | 'forget-promise' | 'amnesia' | 'blind-retry' | 'skip-pre-vote' | 'unbounded-reports' | 'snapshot-stale-index' | 'truncate-unapplied' | 'lease-expire-early' | 'lease-never-expire' | 'lease-ignore-epoch' | 'ignore-config'
export const sabotages: readonly SimSabotage[] = ['forget-promise', 'amnesia', 'unbounded-reports', 'accept-below-promise', 'ignore-reported-value', 'minority-commit', 'blind-retry', 'skip-pre-vote', 'snapshot-stale-index', 'truncate-unapplied', 'lease-expire-early', 'lease-never-expire', 'lease-ignore-epoch', 'ignore-config']
const brokenPeers: ReadonlySet<SimSabotage> = new Set<BrokenPeers>(['ignore-reported-value', 'minority-commit', 'accept-below-promise'])
export const isBrokenPeers = (sabotage: SimSabotage | null): sabotage is BrokenPeers => sabotage !== null && brokenPeers.has(sabotage)

/** The largest value a simulated client writes (raw bytes); the edge's limit, shrunk. */
export const simValueBytesMax = 600
/**
 * commandBytes of the largest command the simulated servers propose: keys of at most 8
 * characters, proposal, idempotency and request ids of at most 24 (as commandBytes counts them).
 * A put carries one maximal value; a txn (sim-clients.ts) compares one maximal value (the last
 * one its client saw) and has four ops with short values (at most 16 characters in base64).
 */
const simProposalFieldBytes = 160 + 6 * (24 + 24) + 64 + 6 * 24
const simPutBytesMax = simProposalFieldBytes + 6 * 8 + 4 * Math.ceil(simValueBytesMax / 3)
const simTxnBytesMax = simProposalFieldBytes + 64 + (96 + 6 * 8 + 4 * Math.ceil(simValueBytesMax / 3) + 1) + 4 * (96 + 6 * 8 + 16 + 1)
const simCommandBytesMax = Math.max(simPutBytesMax, simTxnBytesMax)

export type SimOptions = Readonly<{
  seed: number
  nodes: number
  /** Percent chances per message. */
  dropPercent: number
  duplicatePercent: number
  delayTicksMax: number
  /** Some messages are held much longer: stale messages arriving late find the bugs. */
  longDelayPercent: number
  longDelayTicksMax: number
  /** Per-tick chances in per-mille. */
  partitionPerMille: number
  healPerMille: number
  crashPerMille: number
  restartPerMille: number
  crashAllPerMille: number
  /**
   * A node stalls (a long GC, a stopped VM) for up to `pauseTicksMax`: no ticks, no work, its
   * mail waits. It wakes still believing what it believed, often as a deposed leader.
   */
  pausePerMille: number
  pauseTicksMax: number
  /**
   * A node campaigns out of turn (as an operator's transfer, or a timeout fired early by a slow
   * clock would make it): dueling proposers, where Paxos's safety rules do their work.
   */
  campaignPerMille: number
  /**
   * Crashes aimed where they hurt: a node that just persisted a promise is killed right after it
   * answered, before any other work (kill -9 lands at any instant, this one is the dangerous one).
   */
  crashAfterPromisePercent: number
  /** Per turn of a node's event loop: killed before the turn's write, or after it but before its sends. */
  killInTurnPerTenThousand: number
  /** Per node, the percent of ticks its clock misses: clocks that run slow by different amounts. */
  clockSkipPercentMax: number
  /**
   * A leader that proposed a forwarded write is killed before the next tick: the forwarder's
   * connection resets with the write in flight, where a retry must not apply it twice.
   */
  crashAfterForwardPercent: number
  clients: number
  requestsPerClient: number
  keys: number
  requestTimeoutTicks: number
  safetyTicks: number
  livenessTicksMax: number
  /** Small, so that snapshots, and crashes in the middle of writing one, happen in most seeds. */
  snapshotEverySlots: number
  /** On some seeds also by applied commands and their bytes, so that rule runs as well (null: by slots alone). */
  snapshotEveryCommands: number | null
  snapshotEveryBytes: number | null
  snapshotChunkBytesMax: number
  /**
   * Byte bounds shrunk to a few slots per message, so that promise pages, byte cuts of accepts
   * and catch-ups, and the pipeline's byte bound happen on most seeds.
   */
  byteLimits: ByteLimits
  /** Raw bytes of each put's value: short, or (on some seeds) close to simValueBytesMax. */
  valueBytes: number
  sabotage: SimSabotage | null
  /**
   * Tiny on purpose, so that compaction, "compacted" answers and snapshot installs (to lagging,
   * restarted and partitioned nodes) happen in most seeds: once a snapshot is durable, the log is
   * truncated through its index less `logRetainSlots`, as the node does.
   */
  logRetainSlots: number
  /** Ticks a snapshot transfer takes; the source must stay up and reachable all along. */
  snapshotTransferTicksMax: number
  /** Revisions of changes each node keeps for watch streams (--history-revisions). */
  historyRevisions: number
  /** Per-tick chance of one membership change in the safety phase (sim-reconfig.ts). */
  reconfigPerMille: number
}>

function between(random: Random, min: number, max: number): number {
  return min + randomBelow(random, max - min + 1)
}

export function optionsFromSeed(seed: number, overrides: { nodes?: number; sabotage?: SimSabotage | null } = {}): SimOptions {
  const random = seededRandom(seed)
  // Drawn even when overridden, so `--nodes` changes the cluster size and nothing else.
  const nodes = randomBelow(random, 2) === 0 ? 3 : 5
  return {
    seed,
    nodes: overrides.nodes ?? nodes,
    dropPercent: between(random, 0, 20),
    duplicatePercent: between(random, 0, 10),
    delayTicksMax: between(random, 1, 20),
    longDelayPercent: between(random, 0, 5),
    longDelayTicksMax: between(random, 20, 120),
    partitionPerMille: between(random, 0, 8),
    healPerMille: between(random, 5, 30),
    crashPerMille: between(random, 0, 8),
    // Up to 300: some seeds restart crashed nodes within a few ticks, before the cluster moves on.
    restartPerMille: between(random, 10, 300),
    crashAllPerMille: randomBelow(random, 3) === 0 ? 1 : 0,
    pausePerMille: between(random, 0, 4),
    pauseTicksMax: between(random, 5, 80),
    campaignPerMille: randomBelow(random, 2) === 0 ? 0 : between(random, 1, 10),
    crashAfterPromisePercent: randomBelow(random, 2) === 0 ? 0 : between(random, 1, 20),
    killInTurnPerTenThousand: between(random, 0, 20),
    clockSkipPercentMax: between(random, 0, 40),
    clients: between(random, 2, 4),
    requestsPerClient: between(random, 10, 30),
    keys: between(random, 1, 3),
    requestTimeoutTicks: between(random, 60, 150),
    safetyTicks: between(random, 800, 2000),
    // A healed cluster finishes in under 300 ticks in every seed we ran: 1000 leaves room, not slack.
    livenessTicksMax: 1000,
    // Drawn last, so the fields above stay what they were for every seed.
    byteLimits: drawByteLimits(random),
    valueBytes: randomBelow(random, 3) === 0 ? between(random, 1, 40) : between(random, simValueBytesMax - 100, simValueBytesMax),
    sabotage: overrides.sabotage ?? null,
    // Drawn last, so that the draws above stay what they were for every seed.
    crashAfterForwardPercent: randomBelow(random, 2) === 0 ? 0 : between(random, 1, 15),
    snapshotEverySlots: between(random, 2, 12),
    // A chunk holds at least one entry: a short key and a value of up to simValueBytesMax bytes.
    snapshotChunkBytesMax: simValueBytesMax + 64 + between(random, 0, 512),
    logRetainSlots: between(random, 0, 3),
    snapshotTransferTicksMax: between(random, 1, 40),
    // Drawn last: a short change history on some seeds, so that watch streams meet its bound.
    historyRevisions: randomBelow(random, 2) === 0 ? between(random, 2, 10) : 10_000,
    // Drawn last: on half the seeds snapshots come by commands (a few slots' worth) or by bytes
    // (a few values' worth) as well, often before the slot bound.
    ...(randomBelow(random, 2) === 0
      ? { snapshotEveryCommands: null, snapshotEveryBytes: null }
      : { snapshotEveryCommands: between(random, 2, 30), snapshotEveryBytes: between(random, 1, 8) * simValueBytesMax }),
    // Drawn last: membership changes on two seeds in three.
    reconfigPerMille: randomBelow(random, 3) === 0 ? 0 : between(random, 2, 20),
  }
}

function drawByteLimits(random: Random): ByteLimits {
  const batchBytesMax = simCommandBytesMax + 3 + randomBelow(random, 2 * simCommandBytesMax)
  const messageBytesMax = messageOverheadBytes + entryOverheadBytes + batchBytesMax + randomBelow(random, batchBytesMax)
  const bounds = {
    batchBytesMax,
    messageBytesMax,
    pipelineBytesMax: batchBytesMax * between(random, 1, 8),
    queuedBytesMax: batchBytesMax * between(random, 2, 16),
    frameBytesMax: frameOverheadBytes + messageBytesMax + randomBelow(random, messageBytesMax),
  }
  checkByteLimits(bounds, simCommandBytesMax)
  return bounds
}

/** Think time that spreads a client's requests over the safety phase. */
export function thinkTicksMax(options: SimOptions): number {
  return Math.max(4, Math.floor((2 * options.safetyTicks) / options.requestsPerClient - options.requestTimeoutTicks / 4))
}
