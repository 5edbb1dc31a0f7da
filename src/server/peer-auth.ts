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

/** Throws 401 unless `secret` and `clusterId` are this cluster's. */
export function peerAuthenticator(identity: PeerIdentity): (secret: string | undefined, clusterId: string | undefined) => void {
  const expectedSecret = digest(identity.secret)
  return (secret, clusterId) => {
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    if (secret === undefined || !timingSafeEqual(digest(secret), expectedSecret)) {
      throw new ApiError('unauthorized', 'missing or wrong cluster secret')
    }
    if (clusterId !== identity.clusterId) throw new ApiError('unauthorized', 'wrong cluster id')
  }
}
