/**
 * Prometheus metrics (prom-client), one registry per node. Counters only go up (`_total`);
 * values read from elsewhere at scrape time (indexes, depths, reachability) are gauges.
 * @module
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export type Metrics = ReturnType<typeof createMetrics>

const latencyBucketsSeconds = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
const transactionBucketsSeconds = [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5]

export function createMetrics() {
  const registry = new Registry()
  const registers = [registry]
  collectDefaultMetrics({ register: registry, prefix: 'paxos_kv_' }) // prom-client's own names already start with process_ or nodejs_
  return {
    registry,
    httpRequests: new Counter({ name: 'paxos_kv_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers }),
    httpLatency: new Histogram({ name: 'paxos_kv_http_request_seconds', help: 'HTTP request latency', labelNames: ['route', 'method'], buckets: latencyBucketsSeconds, registers }),
    slotsChosen: new Counter({ name: 'paxos_kv_slots_chosen_total', help: 'Commands in slots this node saw chosen as leader', registers }),
    commandsApplied: new Counter({ name: 'paxos_kv_commands_applied_total', help: 'Write commands applied to the state machine', registers }),
    preVotes: new Counter({ name: 'paxos_kv_pre_votes_total', help: 'Pre-vote rounds started by this node (a campaign follows only a quorum of yes)', registers }),
    elections: new Counter({ name: 'paxos_kv_elections_total', help: 'Campaigns started by this node', registers }),
    leaderChanges: new Counter({ name: 'paxos_kv_became_leader_total', help: 'Times this node became leader', registers }),
    ballotRound: new Gauge({ name: 'paxos_kv_ballot_round', help: 'Round of the highest ballot this node has promised', registers }),
    transactions: new Counter({ name: 'paxos_kv_transactions_total', help: 'SQLite transactions, one per event-loop turn with work (not synced by themselves)', registers }),
    transactionSeconds: new Histogram({ name: 'paxos_kv_transaction_seconds', help: 'Duration of each SQLite transaction (no fsync inside)', buckets: transactionBucketsSeconds, registers }),
    walSyncSeconds: new Histogram({ name: 'paxos_kv_wal_sync_seconds', help: 'Duration of each WAL fdatasync; one serves every turn that waited on it', buckets: transactionBucketsSeconds, registers }),
    batchCommands: new Histogram({ name: 'paxos_kv_batch_commands', help: 'Commands per applied slot', buckets: [0, 1, 2, 4, 8, 16, 32, 64, 128, 256], registers }),
    peerMessagesSent: new Counter({ name: 'paxos_kv_peer_messages_sent_total', help: 'Peer messages written to a peer stream', registers }),
    peerMessagesDropped: new Counter({ name: 'paxos_kv_peer_messages_dropped_total', help: 'Peer messages dropped (full outbox or an unreachable peer); Paxos re-sends', registers }),
    peerMessagesOversized: new Counter({ name: 'paxos_kv_peer_messages_oversized_total', help: 'Peer messages not sent because no frame can hold them (a bug: every message is cut to fit)', registers }),
    peerReachable: new Gauge({ name: 'paxos_kv_peer_reachable', help: '1 when the stream to the peer is connected', labelNames: ['peer'], registers }),
    inboxDepth: new Gauge({ name: 'paxos_kv_inbox_depth', help: 'Peer envelopes waiting for the core', registers }),
    commitIndex: new Gauge({ name: 'paxos_kv_commit_index', help: 'Highest slot known chosen with all below it', registers }),
    appliedIndex: new Gauge({ name: 'paxos_kv_applied_index', help: 'Highest slot applied to the state machine', registers }),
    applyLag: new Gauge({ name: 'paxos_kv_apply_lag_slots', help: 'Chosen slots not yet applied on this node', registers }),
    snapshotsWritten: new Counter({ name: 'paxos_kv_snapshots_written_total', help: 'Snapshots of the state machine written durably', registers }),
    snapshotBytes: new Gauge({ name: 'paxos_kv_snapshot_bytes', help: 'Size of the newest snapshot written', registers }),
    snapshotsSent: new Counter({ name: 'paxos_kv_snapshots_sent_total', help: 'Snapshots streamed whole to a lagging peer', registers }),
    snapshotsInstalled: new Counter({ name: 'paxos_kv_snapshots_installed_total', help: 'Snapshots fetched from a peer and installed in place of the state machine', registers }),
    snapshotFetchesFailed: new Counter({ name: 'paxos_kv_snapshot_fetches_failed_total', help: 'Snapshot fetches from a peer that broke off (the learner asks again later)', registers }),
    logCompactedThrough: new Gauge({ name: 'paxos_kv_log_compacted_through', help: 'The log is truncated through this slot, behind a durable snapshot', registers }),
    snapshotSliceSeconds: new Histogram({ name: 'paxos_kv_snapshot_longest_slice_seconds', help: 'Per snapshot, the longest synchronous slice of its write (the worst event-loop stall)', buckets: transactionBucketsSeconds, registers }),
    liveDataBytes: new Gauge({ name: 'paxos_kv_live_data_bytes', help: 'Live data as the quota counts it (keys, values, records, overhead)', registers }),
    peerLag: new Gauge({ name: 'paxos_kv_peer_lag_slots', help: 'On the leader: proposed slots a peer has not acknowledged (0 elsewhere)', labelNames: ['peer'], registers }),
  }
}

/**
 * Brings a counter up to a cumulative total kept elsewhere (the transport counts as it goes;
 * the registry learns at scrape time). A total that went down would be a bug upstream: ignore.
 */
export function advanceCounter(counter: Counter, reported: { value: number }, total: number): void {
  if (total > reported.value) counter.inc(total - reported.value)
  reported.value = Math.max(reported.value, total)
}
