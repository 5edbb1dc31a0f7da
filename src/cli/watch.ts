/**
 * paxos-kv watch KEY [--prefix] [--from-revision R] [--url URL,...]: one JSON line per change
 * event, until Ctrl-C. When a stream ends (its node stopped, or a leader change ended it) the
 * watch resumes right after the last revision it saw (a change, or a progress event), on the
 * same node or the next one of --url, so no change is missed or repeated; a resume the history
 * no longer covers (410) ends the command with exit 1.
 * @module
 */
import type { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import { request } from 'undici'

/** Progress this often while quiet: it moves the resume point past revisions of other keys. */
const progressMs = 1000
const reconnectDelayMs = 200

type Options = Readonly<{ urls: readonly string[]; key: string; prefix: boolean; from: number | null }>

function parse(argv: readonly string[]): Options | string {
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: { url: { type: 'string', default: 'http://127.0.0.1:7001' }, prefix: { type: 'boolean' }, 'from-revision': { type: 'string' } } })
  } catch (error) {
    return (error as Error).message
  }
  if (parsed.positionals.length !== 1) return `expected 1 argument (the key, or the prefix with --prefix), got ${parsed.positionals.length}`
  const urls = parsed.values.url.split(',').map((url) => url.trim().replace(/\/$/, ''))
  if (urls.some((url) => !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))) return `--url must be http(s) URLs, comma-separated, got ${JSON.stringify(parsed.values.url)}`
  const fromText = parsed.values['from-revision']
  if (fromText !== undefined && !/^[1-9]\d{0,15}$/.test(fromText)) return `--from-revision must be a revision (a positive integer), got ${JSON.stringify(fromText)}`
  return { urls, key: parsed.positionals[0]!, prefix: parsed.values.prefix === true, from: fromText === undefined ? null : Number(fromText) }
}

/** One stream: prints its changes, returns the revision to resume from, or an exit code when it must stop. */
async function follow(url: string, options: Options, from: number | null, out: NodeJS.WritableStream): Promise<{ from: number | null } | { exit: number }> {
  const query = new URLSearchParams({ [options.prefix ? 'prefix' : 'key']: options.key, progressMs: String(progressMs) })
  if (from !== null) query.set('fromRevision', String(from))
  const response = await request(`${url}/v1/watch?${query}`, { method: 'GET', bodyTimeout: progressMs * 10 })
  if (response.statusCode !== 200) {
    process.stderr.write(`${await response.body.text()}\n`)
    // A node without a leader may answer 503 for a while: try again; anything else is final.
    if (response.statusCode === 503) return { from }
    return { exit: 1 }
  }
  let buffered = ''
  let next = from
  try {
    for await (const chunk of response.body as Readable) {
      buffered += chunk.toString()
      for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
        const block = buffered.slice(0, end)
        buffered = buffered.slice(end + 2)
        const data = block.split('\n').find((line) => line.startsWith('data: '))
        if (data === undefined) continue
        const event = JSON.parse(data.slice(6)) as { revision: number }
        if (block.includes('event: change')) out.write(`${data.slice(6)}\n`)
        next = event.revision + 1
      }
    }
  } catch {
    // the connection broke (its node died): resume elsewhere from `next`
  }
  return { from: next }
}

export async function runWatch(argv: readonly string[], signal?: AbortSignal, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const options = parse(argv)
  if (typeof options === 'string') {
    process.stderr.write(`paxos-kv watch: ${options}\n`)
    return 2
  }
  let from = options.from
  let failures = 0
  for (let attempt = 0; signal?.aborted !== true; attempt += 1) {
    const url = options.urls[(attempt + failures) % options.urls.length]!
    try {
      const outcome = await follow(url, options, from, out)
      if ('exit' in outcome) return outcome.exit
      from = outcome.from
      failures = 0
    } catch (error) {
      failures += 1
      if (failures >= options.urls.length * 3) {
        process.stderr.write(`paxos-kv watch: cannot reach ${options.urls.join(', ')}: ${(error as Error).message}\n`)
        return 1
      }
    }
    await new Promise((resolve) => setTimeout(resolve, reconnectDelayMs))
  }
  return 0
}
