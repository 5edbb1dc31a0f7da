/**
 * Structured logs (pino, JSON lines on stdout). The level comes from the config (env LOG_LEVEL,
 * checked there), so a bad level is a config error rather than a crash at first log.
 * @module
 */
import { pino, type Logger } from 'pino'

export type { Logger }

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof logLevels)[number]

export function createLogger(bindings: Record<string, unknown>, level: LogLevel = 'info'): Logger {
  return pino({ level, base: bindings })
}
