/**
 * Prometheus metrics (prom-client), one registry per node.
 * @module
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export type Metrics = ReturnType<typeof createMetrics>

export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'paxos_kv_process_' })
  const metrics = {
    registry,
    httpRequests: new Counter({ name: 'paxos_kv_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    httpLatency: new Histogram({ name: 'paxos_kv_http_request_seconds', help: 'HTTP request latency', labelNames: ['route', 'method'], buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] }),
    slotsChosen: new Counter({ name: 'paxos_kv_slots_chosen_total', help: 'Slots this node saw chosen as leader', registers: [registry] }),
    commandsApplied: new Counter({ name: 'paxos_kv_commands_applied_total', help: 'Write commands applied to the state machine', registers: [registry] }),
    elections: new Counter({ name: 'paxos_kv_elections_total', help: 'Campaigns started by this node', registers: [registry] }),
    leaderChanges: new Counter({ name: 'paxos_kv_became_leader_total', help: 'Times this node became leader', registers: [registry] }),
    transactions: new Counter({ name: 'paxos_kv_fsync_transactions_total', help: 'Durable SQLite transactions (one fsync each with --fsync full)', registers: [registry] }),
    transactionSeconds: new Histogram({ name: 'paxos_kv_fsync_transaction_seconds', help: 'Duration of each durable transaction', buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1], registers: [registry] }),
    batchCommands: new Histogram({ name: 'paxos_kv_batch_commands', help: 'Commands per applied slot', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: [registry] }),
    peerMessagesSent: new Gauge({ name: 'paxos_kv_peer_messages_sent', help: 'Peer messages delivered (cumulative)', registers: [registry] }),
    peerMessagesDropped: new Gauge({ name: 'paxos_kv_peer_messages_dropped', help: 'Peer messages dropped (cumulative)', registers: [registry] }),
    peerReachable: new Gauge({ name: 'paxos_kv_peer_reachable', help: '1 when the last send to the peer succeeded', labelNames: ['peer'], registers: [registry] }),
    inboxDepth: new Gauge({ name: 'paxos_kv_inbox_depth', help: 'Peer envelopes waiting for the core', registers: [registry] }),
    commitIndex: new Gauge({ name: 'paxos_kv_commit_index', help: 'Highest slot known chosen with all below it', registers: [registry] }),
    appliedIndex: new Gauge({ name: 'paxos_kv_applied_index', help: 'Highest slot applied to the state machine', registers: [registry] }),
    applyLag: new Gauge({ name: 'paxos_kv_apply_lag_slots', help: 'Chosen slots not yet applied on this node', registers: [registry] }),
    peerLag: new Gauge({ name: 'paxos_kv_peer_lag_slots', help: 'On the leader: proposed slots a peer has not acknowledged (0 elsewhere)', labelNames: ['peer'], registers: [registry] }),
  }
  return metrics
}
