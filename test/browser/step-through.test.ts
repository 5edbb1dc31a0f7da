/**
 * Goal: step-through on a real cluster from the page: hold the leader's accepts to one
 * follower, write, see the held accept while the write is chosen without that follower, then
 * release it and see the follower's late `accepted`.
 * Method: a real 3-node cluster started with --debug-step, headless Chromium on /ui of a
 * follower; the secret typed into the page as a user would.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { clusterPerTest, secret } from '../integration/harness.js'
import { openBrowser, screenshot, type Browser } from './browser.js'

const newCluster = clusterPerTest()
let browser: Browser | null = null
afterEach(async () => {
  await browser?.close()
  browser = null
})

describe('step-through on the live page', () => {
  it('holds accepts to one node, shows them held, and after release shows its late accepted', async () => {
    const cluster = await newCluster(3, ['--debug-step'])
    const firstLeader = await cluster.leader()
    const serving = cluster.ids.find((id) => id !== firstLeader)!
    browser = await openBrowser()
    const { page } = browser
    await page.goto(`${cluster.url(serving)}/ui`)
    await page.locator('#step-panel:not([hidden])').waitFor({ timeout: 20_000 })
    await page.locator('#members tr[data-role="leader"]').waitFor({ timeout: 20_000 })
    const leader = Number(await page.locator('#members tr[data-role="leader"]').getAttribute('data-member'))
    const follower = cluster.ids.find((id) => id !== leader && id !== serving) ?? cluster.ids.find((id) => id !== leader)!
    await page.fill('#step-secret', secret)
    await page.selectOption('#hold-node', String(leader))
    await expect.poll(() => page.locator(`#hold-to option[value="${follower}"]`).count(), { timeout: 10_000 }).toBe(1)
    await page.selectOption('#hold-to', String(follower))
    await page.fill('#hold-types', 'accept')
    await page.click('#hold-button')
    await expect.poll(() => page.locator('#step-status').textContent(), { timeout: 20_000 }).toBe('hold: ok')

    await page.fill('#write-key', 'held-write')
    await page.click('#write-form button')
    // Under load a write can time out in a leader change (503): the page says so; write again.
    await expect.poll(async () => {
      const shown = (await page.locator('#receipt').textContent()) ?? ''
      if (shown.includes('write failed')) await page.click('#write-form button')
      return page.locator('[data-receipt="quorum"]').count()
    }, { timeout: 60_000, interval: 250 }).toBe(1)
    // Chosen by the leader and the other follower: the held one's vote cannot have counted.
    expect((await page.locator('[data-receipt="quorum"]').textContent())!.split(',').map(Number)).not.toContain(follower)
    const heldAccept = page.locator(`#held [data-held-node="${leader}"] li[data-held-type="accept"][data-held-to="${follower}"]`)
    await heldAccept.first().waitFor({ timeout: 20_000 })
    await screenshot(page, 'step-held', ['#step-panel'])

    await page.click(`#held [data-held-node="${leader}"] button[data-action="release-all"]`)
    await page.locator('#held [data-testid="releases"] li[data-replies*="accepted"]').first().waitFor({ timeout: 20_000 })
    await expect.poll(() => heldAccept.count(), { timeout: 10_000 }).toBe(0)
    await screenshot(page, 'step-released', ['#step-panel'])
  })
})
