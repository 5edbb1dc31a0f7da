/**
 * The etcd Cluster service: MemberList. Member ids are node ids; peerURLs the URL this node
 * reaches the member at, clientURLs where it serves the etcd API. Membership changes answer
 * UNIMPLEMENTED (they are /v1/members and `paxos-kv member`).
 * @module
 */
import type { NodeId } from '../../core/ids.js'
import { responseHeader, type EtcdDeps } from './context.js'
import type { MemberEndpoints } from './member-endpoints.js'
import type { MemberListResponse } from './messages.js'

export type ClusterDeps = EtcdDeps & Readonly<{
  /** The members of the newest configuration this node knows, as it reaches them. */
  members: () => ReadonlyArray<Readonly<{ id: NodeId; url: string; learner: boolean }>>
  /** This node's own etcd endpoint. */
  selfEtcdUrl: string
  endpoints: MemberEndpoints
}>

export async function memberList(deps: ClusterDeps): Promise<MemberListResponse> {
  const all = deps.members()
  const peers = all.filter((member) => member.id !== deps.node.id)
  const endpoints = await deps.endpoints.endpoints(peers)
  const members = all.map((member) => {
    const clientUrl = member.id === deps.node.id ? deps.selfEtcdUrl : endpoints.get(member.id) ?? null
    return { ID: String(member.id), name: `node-${member.id}`, peerURLs: [member.url], clientURLs: clientUrl === null ? [] : [clientUrl], isLearner: member.learner }
  })
  return { header: responseHeader(deps, deps.node.status().revision), members }
}
