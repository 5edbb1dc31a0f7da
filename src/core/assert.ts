/**
 * Assertions state invariants. A failed assertion is a bug: it throws AssertionError and the
 * process crashes. Bad input from clients or peers is rejected at the edge and never gets here.
 * @module
 */
export class AssertionError extends Error {
  override name = 'AssertionError'
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError(message)
}

export function assertNever(value: never): never {
  throw new AssertionError(`unreachable: ${JSON.stringify(value)}`)
}
