/**
 * The cluster secret and id that every peer request carries: checked the same way on peer
 * streams and on client requests one node forwards to another.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { ApiError } from './errors.js'

export type PeerIdentity = Readonly<{ secret: string; clusterId: string }>

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/** A constant-time check against `secret`: digests compare in equal time whatever the lengths. */
export function secretChecker(secret: string): (given: string | undefined) => boolean {
  const expected = digest(secret)
  return (given) => given !== undefined && timingSafeEqual(digest(given), expected)
}

/** Throws 401 unless `secret` and `clusterId` are this cluster's. */
export function peerAuthenticator(identity: PeerIdentity): (secret: string | undefined, clusterId: string | undefined) => void {
  const secretMatches = secretChecker(identity.secret)
  return (secret, clusterId) => {
    if (!secretMatches(secret)) throw new ApiError('unauthorized', 'missing or wrong cluster secret')
    if (clusterId !== identity.clusterId) {
      const named = clusterId === undefined ? 'names no cluster' : `is for cluster ${JSON.stringify(clusterId.slice(0, 64))}`
      throw new ApiError('unauthorized', `wrong cluster id: the request ${named}, this node belongs to cluster ${identity.clusterId}`)
    }
  }
}
