/**
 * The `lease-never-expire` sabotage: a leader's lease keeper whose countdowns run as usual but
 * which never names a lease to revoke, so a lease nobody keeps alive keeps its keys forever.
 * Injected by the simulator in place of the production LeaseKeeper; the lease-liveness checker
 * must catch it (no safety checker can: nothing is ever deleted early).
 */
import { LeaseKeeper, type LeaseProposal } from '../../src/node/lease-keeper.js'

export class ForgetfulLeaseKeeper extends LeaseKeeper {
  /** The epoch marker still goes out: only the revokes are forgotten. */
  override tick(): LeaseProposal[] {
    return super.tick().filter((proposal) => proposal.type !== 'lease-revoke')
  }
}
