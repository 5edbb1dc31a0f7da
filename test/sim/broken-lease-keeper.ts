/**
 * The `lease-never-expire` sabotage: a leader's lease keeper whose countdowns run as usual but
 * which never names a lease to revoke, so a lease nobody keeps alive keeps its keys forever.
 * Injected by the simulator in place of the production LeaseKeeper; the lease-liveness checker
 * must catch it (no safety checker can: nothing is ever deleted early).
 */
import type { LeaseId } from '../../src/core/index.js'
import { LeaseKeeper } from '../../src/node/lease-keeper.js'

export class ForgetfulLeaseKeeper extends LeaseKeeper {
  override tick(): LeaseId[] {
    super.tick()
    return []
  }
}
