/**
 * One request to the first node of a list that takes it: `--url` names several nodes, and the
 * client moves on when one is down. Moving on is safe only when the request cannot have taken
 * effect where it failed: a refused connection (it never arrived), or any failure of a read.
 * Any node forwards to the leader, so an answer from one is the cluster's answer.
 * @module
 */
import { request } from 'undici'

export type Answer = Readonly<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; url: string }>

export type Attempt = Readonly<{ method: 'GET' | 'PUT' | 'DELETE' | 'POST'; path: string; body: Buffer | string | null; headers?: Record<string, string> }>

export class Unreachable extends Error {
  override name = 'Unreachable'
}

function refused(error: unknown): boolean {
  for (let current = error; typeof current === 'object' && current !== null; current = (current as { cause?: unknown }).cause) {
    if ((current as { code?: unknown }).code === 'ECONNREFUSED') return true
  }
  return false
}

/** Tries `urls` in order; throws Unreachable naming each one tried and why, in one line. */
export async function sendToFirst(urls: readonly string[], attempt: Attempt): Promise<Answer> {
  const failures: string[] = []
  const retrySafe = attempt.method === 'GET' || attempt.path === '/v1/status'
  for (const base of urls) {
    try {
      const response = await request(`${base}${attempt.path}`, { method: attempt.method, body: attempt.body, headers: attempt.headers ?? {} })
      // Bytes, not text: a value may be any binary, and decoding it as UTF-8 would change it.
      return { status: response.statusCode, headers: response.headers, body: Buffer.from(await response.body.arrayBuffer()), url: base }
    } catch (error) {
      failures.push(`${base}: ${(error as Error).message}`)
      if (!refused(error) && !retrySafe) break // it may have arrived: another node could apply it twice
    }
  }
  throw new Unreachable(`cannot reach ${failures.join('; ')}`)
}
