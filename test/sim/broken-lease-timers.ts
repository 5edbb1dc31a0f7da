/**
 * The `lease-expire-early` sabotage: lease timers that count half of every TTL, so the leader
 * expires a lease (and proposes its revoke) while its holder's keepalives still arrive within
 * the TTL. Injected by the simulator in place of the production LeaseTimers; the lease-safety
 * checker must catch it.
 */
import { LeaseTimers } from '../../src/node/lease-timers.js'

export class EarlyLeaseTimers extends LeaseTimers {
  override ticksOf(ttlSeconds: number): number {
    return Math.max(1, Math.floor(super.ticksOf(ttlSeconds) / 2))
  }
}
