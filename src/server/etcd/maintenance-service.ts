/**
 * The etcd Maintenance service: Status (what `etcdctl endpoint status` prints) and Alarm's GET
 * (no alarms are raised: a full store refuses the growing write itself, with etcd's "database
 * space exceeded"). The rest answers UNIMPLEMENTED.
 * @module
 */
import { responseHeader, type EtcdDeps } from './context.js'
import { EtcdError } from './etcd-errors.js'
import type { AlarmRequest, AlarmResponse, StatusResponse } from './messages.js'

/** What Status reports as the server version: the etcd release whose API this one speaks. */
export const etcdCompatibleVersion = '3.4.0-compatible'

export function status(deps: EtcdDeps): StatusResponse {
  const status = deps.node.status()
  const usedBytes = String(deps.node.usedBytes())
  return {
    header: responseHeader(deps, status.revision),
    version: etcdCompatibleVersion,
    dbSize: usedBytes,
    leader: String(status.leader ?? 0),
    raftIndex: String(status.commitIndex),
    raftTerm: String(status.ballot.round),
    raftAppliedIndex: String(status.appliedIndex),
    errors: [],
    dbSizeInUse: usedBytes,
    isLearner: false,
  }
}

export function alarm(deps: EtcdDeps, request: AlarmRequest): AlarmResponse {
  if (request.action !== 'GET') throw new EtcdError('unimplemented', `Maintenance.Alarm ${request.action} is not served`)
  return { header: responseHeader(deps, deps.node.status().revision), alarms: [] }
}
