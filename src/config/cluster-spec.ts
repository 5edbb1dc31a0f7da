/**
 * Parses `--cluster 1=http://127.0.0.1:7001,2=...`: every member, this node included. A URL is
 * the address THIS node uses to reach that member (it may be a proxy).
 * @module
 */
import type { NodeId } from '../core/ids.js'
import { limits } from '../core/limits.js'

export type Member = Readonly<{ id: NodeId; url: string }>

export class ConfigError extends Error {
  override name = 'ConfigError'
  readonly flag: string

  constructor(flag: string, message: string) {
    super(`${flag}: ${message}`)
    this.flag = flag
  }
}

export function parseClusterSpec(spec: string): Member[] {
  const members: Member[] = []
  for (const part of spec.split(',')) {
    const match = /^(\d+)=(.+)$/.exec(part.trim())
    if (match === null) throw new ConfigError('--cluster', `expected ID=URL, got ${JSON.stringify(part)}`)
    const id = Number(match[1])
    if (!Number.isInteger(id) || id < 1 || id > limits.nodesMax) {
      throw new ConfigError('--cluster', `node ids are 1 to ${limits.nodesMax}, got ${match[1]}`)
    }
    let url: URL
    try {
      url = new URL(match[2]!)
    } catch {
      throw new ConfigError('--cluster', `not a URL for node ${id}: ${JSON.stringify(match[2])}`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('--cluster', `node ${id}: only http(s) URLs`)
    if (members.some((member) => member.id === id)) throw new ConfigError('--cluster', `node ${id} is listed twice`)
    const normalized = url.origin + url.pathname.replace(/\/$/, '')
    // Two members behind one address would be one process answering as two acceptors.
    const twin = members.find((member) => member.url === normalized)
    if (twin !== undefined) throw new ConfigError('--cluster', `nodes ${twin.id} and ${id} share the URL ${normalized}`)
    members.push({ id: id as NodeId, url: normalized })
  }
  if (members.length === 0) throw new ConfigError('--cluster', 'no members')
  return members.sort((a, b) => a.id - b.id)
}

/** The TCP port a member URL names (the scheme's default when it names none). */
export function urlPort(url: string): number {
  const parsed = new URL(url)
  if (parsed.port !== '') return Number(parsed.port)
  return parsed.protocol === 'https:' ? 443 : 80
}

/**
 * An even-sized cluster needs a larger majority without surviving more failures: 2 members
 * tolerate none, 4 tolerate one, like 1 and 3. Worth a warning, not a refusal.
 */
export function clusterSizeWarning(members: number): string | null {
  if (members % 2 !== 0) return null
  const tolerated = Math.floor((members - 1) / 2)
  return `a ${members}-member cluster tolerates ${tolerated} failed member${tolerated === 1 ? '' : 's'}, no more than ${members - 1} members would: use an odd number`
}
