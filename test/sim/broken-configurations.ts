/**
 * The ignore-config sabotage: a configuration tracker that never takes in a new configuration.
 * A replica built with it counts quorums (accepts, Phase 1, read rounds) against the members it
 * started with, however the log has changed them since.
 */
import { Configurations, type ChosenConfig } from '../../src/core/configuration.js'

export class StaleConfigurations extends Configurations {
  override add(_chosen: ChosenConfig): boolean {
    return false
  }
}
