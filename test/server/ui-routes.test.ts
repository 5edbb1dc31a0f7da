/**
 * Goal: GET /ui serves the live page and every file it loads (its own ES modules, its CSS, and
 * uPlot from its npm package), all from this node, and nothing else: an unknown name is 404,
 * a path that tries to leave the directory is 404, another method 405.
 * Method: app.request() against createApp with a FakeNode.
 */
import { describe, expect, it } from 'vitest'
import { nodeId } from '../../src/core/index.js'
import { createApp } from '../../src/server/app.js'
import { FakeNode } from './fake-node.js'
import { PeerCodec } from '../../src/transport/codec.js'
import { writeCommandSchema } from '../../src/kv/command-codec.js'

const app = createApp({ peerCodec: new PeerCodec(writeCommandSchema), node: new FakeNode(), secret: 's', clusterId: 'c1', members: new Set([nodeId(1)]), requestTimeoutMs: 100, valueBytesMax: 1024, onFatal: () => {} })

describe('GET /ui', () => {
  it('serves the page, and every script and stylesheet it names, from this node', async () => {
    const page = await app.request('/ui')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await page.text()
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!).filter((asset) => !asset.startsWith('data:'))
    expect(assets).toEqual(expect.arrayContaining(['/ui/app.js', '/ui/style.css', '/ui/uPlot.min.css']))
    expect(assets.every((asset) => asset.startsWith('/ui/'))).toBe(true) // nothing from the network
    const modules = new Set<string>(['/ui/app.js'])
    for (const module of modules) {
      const response = await app.request(module)
      expect(response.status, module).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/javascript/)
      // Follow the imports: every module the page loads must be served.
      for (const match of (await response.text()).matchAll(/from '(?:\.\/|\/ui\/)([^']+)'/g)) modules.add(`/ui/${match[1]}`)
    }
    expect(modules).toContain('/ui/uPlot.esm.js')
    expect(modules.size).toBeGreaterThan(8)
    for (const asset of assets) expect((await app.request(asset)).status, asset).toBe(200)
  })

  it('404 for a name it does not have, also one that tries to leave the directory; 405 for another method', async () => {
    expect((await app.request('/ui/nope.js')).status).toBe(404)
    expect((await app.request('/ui/..%2Fui-routes.ts')).status).toBe(404)
    expect((await app.request('/ui/../app.ts')).status).toBe(404)
    expect((await app.request('/ui', { method: 'POST' })).status).toBe(405)
  })
})
