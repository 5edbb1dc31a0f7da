/**
 * The one closed table from error codes to HTTP statuses, and the one JSON error shape.
 * @module
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status'

export const apiErrorStatus = {
  bad_request: 400,
  unauthorized: 401,
  /** A peer request from a node that is not a member. */
  not_a_member: 403,
  not_found: 404,
  lease_not_found: 404,
  method_not_allowed: 405,
  cas_mismatch: 409,
  /** Membership: the id or URL is taken, the learner is behind, or a change is under way. */
  member_exists: 409,
  not_caught_up: 409,
  change_in_progress: 409,
  /** A member that came back with another data directory than the one its peers know. */
  incarnation_changed: 409,
  too_large: 413,
  compacted: 410,
  idempotency_key_reused: 422,
  unavailable: 503,
  quota_exceeded: 507,
  overloaded: 503,
} as const satisfies Record<string, ContentfulStatusCode>

export type ApiErrorCode = keyof typeof apiErrorStatus

/** Seconds a client should wait before retrying a 503. */
export const retryAfterSeconds = 1

export class ApiError extends Error {
  override name = 'ApiError'
  readonly code: ApiErrorCode
  readonly extra: Readonly<Record<string, unknown>>

  constructor(code: ApiErrorCode, message: string, extra: Readonly<Record<string, unknown>> = {}) {
    super(message)
    this.code = code
    this.extra = extra
  }
}

export function errorBody(error: ApiError): Record<string, unknown> {
  return { error: error.code, message: error.message, ...error.extra }
}
