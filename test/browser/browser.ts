/**
 * Headless Chromium for the live-page tests: Debian's `chromium` driven by playwright-core,
 * with a fresh profile per launch and nothing that reaches the network by itself.
 * Screenshots go to test/browser/artifacts/ (gitignored).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const artifactsDir = fileURLToPath(new URL('./artifacts/', import.meta.url))
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** `errors`: what the page threw or logged as an error, for failure messages. */
export type Browser = Readonly<{ page: Page; errors: string[]; close: () => Promise<void> }>

export async function openBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'paxos-kv-chromium-'))
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1280, height: 1100 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const page = context.pages()[0] ?? (await context.newPage())
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text())
  })
  return {
    page,
    errors,
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/**
 * The whole page as `name`.png; with `panels`, also just the box around those elements as
 * `name`-panels.png (small enough for the README).
 */
export async function screenshot(page: Page, name: string, panels: readonly string[] = []): Promise<void> {
  mkdirSync(artifactsDir, { recursive: true })
  await page.screenshot({ path: join(artifactsDir, `${name}.png`), fullPage: true })
  if (panels.length === 0) return
  const boxes = await Promise.all(panels.map(async (selector) => {
    await page.locator(selector).waitFor({ timeout: 10_000 })
    return page.locator(selector).boundingBox()
  }))
  const shown = boxes.filter((box) => box !== null)
  // Boxes are relative to the viewport, a full-page clip to the page: add the scroll.
  const scrollY = Number(await page.evaluate('window.scrollY'))
  const x = Math.min(...shown.map((box) => box.x)) - 4
  const y = Math.min(...shown.map((box) => box.y)) - 4
  const width = Math.max(...shown.map((box) => box.x + box.width)) - x + 4
  const height = Math.max(...shown.map((box) => box.y + box.height)) - y + 4
  await page.screenshot({ path: join(artifactsDir, `${name}-panels.png`), fullPage: true, clip: { x, y: y + scrollY, width, height } })
}
