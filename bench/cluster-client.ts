/**
 * What the bench needs to know about a running cluster, through the public API only.
 */
import { request } from 'undici'

/** `etcdUrl`: where the node serves the etcd v3 gRPC API (serve --etcd-port), null when it does not. */
export type Status = {
  id: number
  role: string
  leader: number | null
  commitIndex: number
  appliedIndex: number
  revision: number
  snapshot: { newestIndex: number | null; logCompactedThrough: number; installed: number }
  etcdUrl?: string | null
}

export async function fetchStatus(url: string, timeoutMs = 1000): Promise<Status | null> {
  try {
    const response = await request(`${url}/v1/status`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
    if (response.statusCode !== 200) {
      await response.body.dump()
      return null
    }
    return (await response.body.json()) as Status
  } catch {
    return null
  }
}

/**
 * Polls until every node answers /v1/status: a quorum can elect a leader before the last node
 * has opened its port, and a bench that reads every node's metrics then would fail.
 */
export async function waitForAll(urls: readonly string[], timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  for (const url of urls) {
    while ((await fetchStatus(url)) === null) {
      if (performance.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
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

/**
 * Campaigns started so far, summed over `urls` (from each node's /metrics). The bench reads it
 * before and after the load: a stable leader under load starts none.
 */
export async function electionsStarted(urls: readonly string[]): Promise<number> {
  let total = 0
  for (const url of urls) {
    const response = await request(`${url}/metrics`, { headersTimeout: 5000, bodyTimeout: 5000 })
    const text = await response.body.text()
    const match = /^paxos_kv_elections_total (\d+)$/m.exec(text)
    if (response.statusCode !== 200 || match === null) throw new Error(`${url}/metrics has no paxos_kv_elections_total`)
    total += Number(match[1])
  }
  return total
}
