/**
 * Structured logs (pino, JSON lines on stdout). Level from LOG_LEVEL.
 * @module
 */
import { pino, type Logger } from 'pino'

export type { Logger }

export function createLogger(bindings: Record<string, unknown>): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'info', base: bindings })
}
