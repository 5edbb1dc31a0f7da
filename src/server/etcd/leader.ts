/**
 * etcd calls that need the leader (writes, linearizable reads) use the node's one forwarding
 * loop (runWithLeader): a follower sends the call, as the client encoded it, to the leader's
 * POST /peer/etcd/{service}/{method} with the forwarding headers, and hands back the leader's
 * answer. The leader's route (peer-route.ts) runs the same handler with `forwarded` set.
 * @module
 */
import type { RequestId } from '../../kv/command.js'
import type { NodeId } from '../../core/ids.js'
import { runWithLeader, requestDeadline, type Attempt, type PeerAnswer } from '../forward.js'
import type { CallContext, EtcdDeps } from './context.js'
import { methodDefinition, type EtcdServiceName } from './definitions.js'
import { EtcdError, isEtcdErrorCode } from './etcd-errors.js'

/** The headers a forwarded call's answer carries its etcd error in (absent: success). */
export const etcdAnswerHeaders = { error: 'x-paxos-etcd-error', message: 'x-paxos-etcd-message' } as const

/** Thrown on the leader's route when this node turned out not to lead: the forwarder tries again. */
export class NotLeaderSignal extends Error {
  override name = 'NotLeaderSignal'
  readonly leader: NodeId | null

  constructor(leader: NodeId | null) {
    super('not the leader')
    this.leader = leader
  }
}

export type ForwardableCall = Readonly<{ service: EtcdServiceName; method: string; kind: 'write' | 'read' }>

/** One try on this node, with the request id (a write's, once forwarded) and the call's deadline. */
export type LeaderAttempt<T> = (requestId: RequestId | null, deadline: number) => ReturnType<Attempt<T>>

export type OnLeader<T, R> = Readonly<{ type: 'local'; outcome: T }> | Readonly<{ type: 'relayed'; response: R }>

/** Runs `attempt` here when this node leads, else has the leader answer the whole call. */
export async function onLeader<T extends { type: string }, R extends { header: object }>(
  deps: EtcdDeps,
  context: CallContext,
  call: ForwardableCall,
  attempt: LeaderAttempt<T>,
): Promise<OnLeader<T, R>> {
  const { node } = deps
  const deadline = requestDeadline(node, deps.requestTimeoutMs, context.forwarded, call.kind, context.clientDeadline)
  // The first node names a write; every forward and retry of it carries that name.
  const requestId = call.kind === 'read' ? null : context.forwarded === null ? node.newRequestId() : context.forwarded.requestId
  const ended = await runWithLeader(
    { node, identity: { secret: deps.secret, clusterId: deps.clusterId }, deadline, forwarded: context.forwarded, requestId, body: null },
    { method: 'POST', path: `/peer/etcd/${call.service}/${call.method}`, headers: { 'content-type': 'application/x-protobuf' }, body: context.requestBytes },
    (id) => attempt(id, deadline),
  )
  switch (ended.type) {
    case 'local':
      return ended
    case 'relayed':
      return { type: 'relayed', response: relayedResponse<R>(deps, call, ended.answer) }
    case 'not_leader':
      throw new NotLeaderSignal(ended.leader)
    case 'give_up':
      throw ended.outcome === 'unknown'
        ? new EtcdError('timeout', 'the leader did not answer in time; the request may or may not have taken effect')
        : new EtcdError('no_leader', 'no leader could be reached in time')
  }
}

/** The leader's answer as this member's: decoded, with this member named in the header. */
function relayedResponse<R extends { header: object }>(deps: EtcdDeps, call: ForwardableCall, answer: PeerAnswer): R {
  const code = answer.headers[etcdAnswerHeaders.error]
  if (answer.status === 200 && code === undefined) {
    const response = methodDefinition(call.service, call.method).responseDeserialize(Buffer.from(answer.body)) as R
    return { ...response, header: { ...response.header, member_id: String(deps.node.id) } }
  }
  if (answer.status === 200 && code !== undefined && isEtcdErrorCode(code)) {
    throw EtcdError.relayed(code, decodeURIComponent(answer.headers[etcdAnswerHeaders.message] ?? ''))
  }
  // A leader that refuses a member's forward (401: another secret or cluster id) is a misconfiguration.
  throw new EtcdError('no_leader', `the leader refused the forwarded call (HTTP ${answer.status})`)
}
