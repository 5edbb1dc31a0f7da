/**
 * A port a node could not listen on: which flag named it, and why (exit 2 at the CLI).
 * @module
 */
export class ListenError extends Error {
  override name = 'ListenError'
  readonly flag: string

  constructor(flag: string, host: string, port: number, cause: Error) {
    super(`cannot listen on ${host}:${port}: ${cause.message.split('\n')[0]}`)
    this.flag = flag
  }
}

