/**
 * The `lease-ignore-epoch` sabotage: a state machine that applies every expiry's revoke however
 * old the leader that decided it, as before the lease epoch existed. It strips the ballot an
 * expiry's revoke carries, so the revoke applies as a client's would. Injected by the simulator
 * in place of the production KvStateMachine, on every replica and in the snapshot-restore
 * reference alike (so they agree, and only a lease checker can tell); the lease-safety checker
 * must catch it: an older leader's expiry, chosen after a newer leader renewed the lease.
 */
import { isCoreEntry, type ChosenEntry } from '../../src/core/index.js'
import type { Command, WriteCommand } from '../../src/kv/command.js'
import { KvStateMachine } from '../../src/kv/kv-state-machine.js'
import type { AppliedWrite } from '../../src/kv/state-machine.js'

export class EpochBlindStateMachine extends KvStateMachine {
  override apply(entries: readonly ChosenEntry<WriteCommand>[]): readonly AppliedWrite[] {
    return super.apply(entries.map((entry) => ({ ...entry, value: entry.value.map(withoutExpiryBallot) })))
  }
}

function withoutExpiryBallot(command: Command): Command {
  if (isCoreEntry(command) || command.type !== 'lease-revoke' || command.expiryBallot === undefined) return command
  const { expiryBallot: _ignored, ...revoke } = command
  return revoke
}
