/**
 * Closed-loop load with autocannon (keep-alive connections, HDR-histogram latencies): each
 * connection sends its next request when the previous answer arrives.
 */
import autocannon from 'autocannon'

export type WorkloadName = 'put' | 'get' | 'stale-get' | 'mix'

export type WorkloadResult = {
  workload: WorkloadName
  connections: number
  opsPerSecond: number
  latencyMsP50: number
  latencyMsP99: number
  latencyMsP999: number
  requests: number
  errors: number
  /** Failures by kind ("http_503", "grpc_Unavailable", "timeout"), where the driver tells them apart. */
  errorsByKind?: Record<string, number>
}

/** Bytes of each PUT's value unless --value-bytes says otherwise. */
export const defaultValueBytes = 100

/** Keys the read workloads read; written once before they run. */
export const readKeys = 1000

/**
 * How PUT keys are spread: `random` (the default, as in bench/wrk and bench/load-go) lands each
 * insert on its own B-tree page; `sequential` (a counter) appends to a few pages, the best case.
 */
export type KeyPattern = 'random' | 'sequential'

function requestsFor(workload: WorkloadName, keys: KeyPattern, valueBytes: number): autocannon.Request[] {
  let counter = 0
  const putRequest: autocannon.Request = {
    method: 'PUT',
    body: 'v'.repeat(valueBytes),
    setupRequest: (request) => {
      counter += 1
      const key = keys === 'random' ? `${Math.floor(Math.random() * 1e9)}-${counter}` : `${process.pid}-${String(counter).padStart(12, '0')}`
      return { ...request, path: `/v1/kv/bench/put/${key}` }
    },
  }
  const getRequest = (query: string): autocannon.Request => ({
    method: 'GET',
    setupRequest: (request) => {
      counter += 1
      return { ...request, path: `/v1/kv/bench/read/${counter % readKeys}${query}` }
    },
  })
  switch (workload) {
    case 'put':
      return [putRequest]
    case 'get':
      return [getRequest('')]
    case 'stale-get':
      return [getRequest('?consistency=stale')]
    case 'mix':
      // 90/10 GET/PUT: autocannon cycles through the list in order.
      return [...Array.from({ length: 9 }, () => getRequest('')), putRequest]
  }
}

/** One cell of the bench, whichever client drives it. */
export type WorkloadRunOptions = Readonly<{
  url: string
  workload: WorkloadName
  connections: number
  durationSeconds: number
  keys: KeyPattern
  valueBytes?: number
}>

export async function runWorkload(options: WorkloadRunOptions): Promise<WorkloadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    requests: requestsFor(options.workload, options.keys, options.valueBytes ?? defaultValueBytes),
    timeout: 10,
  })
  return {
    workload: options.workload,
    connections: options.connections,
    opsPerSecond: Math.round(result['2xx'] / options.durationSeconds),
    latencyMsP50: result.latency.p50,
    latencyMsP99: result.latency.p99,
    latencyMsP999: result.latency.p99_9,
    requests: result.requests.total,
    errors: result.errors + result.timeouts + result.non2xx,
  }
}
