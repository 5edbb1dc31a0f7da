/**
 * Goal: `--cluster` parsing accepts exactly the documented form (ID=URL, ids 1..7, unique,
 * http(s) URLs) and names the flag in every refusal; the default cluster id depends only on
 * the member ids, never on their order, their URLs or the secret.
 * Method: tables of good and bad specs through parseClusterSpec.
 */
import { describe, expect, it } from 'vitest'
import { clusterSizeWarning, ConfigError, parseClusterSpec, urlPort } from '../../src/config/cluster-spec.js'

function refusal(spec: string): ConfigError {
  try {
    parseClusterSpec(spec)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error(`accepted ${JSON.stringify(spec)}`)
}

describe('parseClusterSpec', () => {
  it('parses members, sorted by id, URLs without a trailing slash', () => {
    expect(parseClusterSpec('2=http://127.0.0.1:7002/, 1=https://node-1.example:443,3=http://[::1]:7003/base/')).toEqual([
      { id: 1, url: 'https://node-1.example' },
      { id: 2, url: 'http://127.0.0.1:7002' },
      { id: 3, url: 'http://[::1]:7003/base' },
    ])
  })

  it('accepts a single member and the largest cluster', () => {
    expect(parseClusterSpec('1=http://a:1')).toHaveLength(1)
    const seven = Array.from({ length: 7 }, (_, index) => `${index + 1}=http://127.0.0.1:${7001 + index}`).join(',')
    expect(parseClusterSpec(seven).map((member) => member.id)).toEqual([1, 2, 3, 4, 5, 6, 7])
  })

  const bad: Array<[string, string, RegExp]> = [
    ['empty', '', /expected ID=URL/],
    ['trailing comma', '1=http://a:1,', /expected ID=URL/],
    ['no id', 'http://a:1', /expected ID=URL/],
    ['no url', '1=', /expected ID=URL/],
    ['id 0', '0=http://a:1', /ids are 1 to 7/],
    ['id 8', '8=http://a:1', /ids are 1 to 7/],
    ['negative id', '-1=http://a:1', /expected ID=URL/],
    ['fractional id', '1.5=http://a:1', /expected ID=URL/],
    ['duplicate id', '1=http://a:1,1=http://b:2', /listed twice/],
    ['two members at one URL', '1=http://a:1,2=http://a:1/', /nodes 1 and 2 share the URL http:\/\/a:1/],
    ['not a URL', '1=not a url', /not a URL/],
    ['bad port', '1=http://a:99999', /not a URL/],
    ['ftp', '1=ftp://a:21', /only http\(s\)/],
    ['no scheme', '1=127.0.0.1:7001', /only http\(s\)|not a URL/],
  ]
  it.each(bad)('refuses %s, naming --cluster', (_label, spec, reason) => {
    const error = refusal(spec)
    expect(error.flag).toBe('--cluster')
    expect(error.message).toMatch(/^--cluster: /)
    expect(error.message).toMatch(reason)
    expect(error.message).not.toContain('\n')
  })
})

describe('urlPort and clusterSizeWarning', () => {
  it('reads the port a URL names, or its scheme default', () => {
    expect(urlPort('http://127.0.0.1:7001')).toBe(7001)
    expect(urlPort('http://a')).toBe(80)
    expect(urlPort('https://a')).toBe(443)
  })

  it('warns for even sizes only, with the failures they tolerate', () => {
    expect([1, 3, 5, 7].map(clusterSizeWarning)).toEqual([null, null, null, null])
    expect(clusterSizeWarning(2)).toMatch(/2-member cluster tolerates 0 failed members, no more than 1/)
    expect(clusterSizeWarning(4)).toMatch(/4-member cluster tolerates 1 failed member, no more than 3/)
  })
})
