/**
 * `put --explain` / `del --explain`: the write's consensus receipt (X-Paxos-* headers) told as
 * a short story, one line per step of Paxos it went through. Only what the headers say is told.
 * @module
 */
export type ReceiptHeaders = Readonly<Record<string, string | undefined>>

function nodes(list: string): string {
  const ids = list.split(',').filter((id) => id !== '')
  return ids.length === 1 ? `node ${ids[0]}` : `nodes ${ids.slice(0, -1).join(', ')} and ${ids[ids.length - 1]}`
}

export function explainReceipt(headers: ReceiptHeaders, version: number | null): string[] {
  const slot = headers['x-paxos-slot']
  if (slot === undefined) return ['no consensus receipt came back (the server sent no X-Paxos-* headers)']
  const ballot = headers['x-paxos-ballot']
  const leader = headers['x-paxos-leader']
  const quorum = headers['x-paxos-quorum']
  const commitMs = headers['x-paxos-commit-ms']
  const fsyncMs = headers['x-paxos-fsync-ms']
  const lines: string[] = []
  const round = ballot?.split('.')[0]
  lines.push(leader === undefined
    ? `slot ${slot}: the write was chosen under an earlier leader, which this answer cannot describe`
    : `slot ${slot}: leader node ${leader} sent accept(ballot ${ballot ?? '?'}) to every acceptor; it won Phase 1 in round ${round ?? '?'}, so no prepare was needed for this write`)
  if (fsyncMs !== undefined) lines.push(`the leader's own acceptor wrote the value to its log and fsynced it in ${fsyncMs} ms`)
  else if (leader !== undefined) lines.push(`the quorum formed before the leader's own fsync finished (its vote did not count)`)
  if (quorum !== undefined) lines.push(`accepted by ${nodes(quorum)}: a majority, so the value is chosen and can never change`)
  if (commitMs !== undefined) lines.push(`chosen ${commitMs} ms after the leader proposed it`)
  lines.push(version === null ? 'applied in slot order, then acknowledged' : `applied in slot order as version ${version}, then acknowledged`)
  return lines
}
