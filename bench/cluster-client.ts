/**
 * What the bench needs to know about a running cluster, through the public API only.
 */
import { request } from 'undici'

export type Status = { id: number; role: string; leader: number | null; commitIndex: number }

export async function fetchStatus(url: string): Promise<Status | null> {
  try {
    const response = await request(`${url}/v1/status`, { headersTimeout: 1000, bodyTimeout: 1000 })
    if (response.statusCode !== 200) {
      await response.body.dump()
      return null
    }
    return (await response.body.json()) as Status
  } catch {
    return null
  }
}

/** Polls until some node reports itself leader; returns its index in `urls`. */
export async function waitForLeader(urls: readonly string[], timeoutMs = 30_000): Promise<number> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    for (const [index, url] of urls.entries()) {
      const status = await fetchStatus(url)
      if (status?.role === 'leader') return index
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`no leader among ${urls.join(', ')} within ${timeoutMs} ms`)
}

export async function put(url: string, key: string, value: string, timeoutMs = 5000): Promise<number> {
  try {
    const response = await request(`${url}/v1/kv/${encodeURIComponent(key)}`, {
      method: 'PUT', body: value, headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
    })
    await response.body.dump()
    return response.statusCode
  } catch {
    return 0
  }
}
