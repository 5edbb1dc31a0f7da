/**
 * GET /ui: the live page. Its files (plain ES modules, HTML, CSS) are read once from
 * ui/public next to this module (the build copies them into dist), and uPlot from its npm
 * package; nothing is fetched from the network, nothing is bundled by hand. Only files that
 * exist at start are served: a name is looked up in that table, never joined into a path.
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Hono } from 'hono'
import { ApiError } from './errors.js'

type StaticFile = Readonly<{ body: Buffer; contentType: string }>

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
}

function loadPublicFiles(): Map<string, StaticFile> {
  const dir = fileURLToPath(new URL('./ui/public/', import.meta.url))
  const files = new Map<string, StaticFile>()
  for (const name of readdirSync(dir)) {
    const contentType = contentTypes[extname(name)]
    if (contentType !== undefined) files.set(name, { body: readFileSync(`${dir}${name}`), contentType })
  }
  const require = createRequire(import.meta.url)
  files.set('uPlot.esm.js', { body: readFileSync(require.resolve('uplot/dist/uPlot.esm.js')), contentType: contentTypes['.js']! })
  files.set('uPlot.min.css', { body: readFileSync(require.resolve('uplot/dist/uPlot.min.css')), contentType: contentTypes['.css']! })
  return files
}

export function mountUiRoutes(app: Hono): void {
  const files = loadPublicFiles()
  const serveFile = (name: string) => {
    const file = files.get(name)
    if (file === undefined) throw new ApiError('not_found', `no file ${JSON.stringify(name)} in the live page`)
    return new Response(new Uint8Array(file.body), { headers: { 'content-type': file.contentType, 'cache-control': 'no-cache' } })
  }
  app.get('/ui', () => serveFile('index.html'))
  app.get('/ui/:name', (c) => serveFile(c.req.param('name')))
}
