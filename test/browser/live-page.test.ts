/**
 * Goal: the live page shows the real cluster: three members and one leader; a write from the
 * page lands in the slot grid with its consensus receipt; kill -9 of the leader shows a new
 * ballot on the leader timeline and the killed member as down.
 * A member added while the page is open appears in its table (as a learner, then a voter once
 * promoted) with its own feed, and goes when it is removed.
 * Method: a real 3-node cluster (test/integration/harness.ts) and headless Chromium on /ui
 * of one node, which relays the other members' feeds.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { cliPath, clusterPerTest, secret, waitFor, type TestCluster } from '../integration/harness.js'
import { openBrowser, screenshot, type Browser } from './browser.js'

const newCluster = clusterPerTest()

/** Whether a page's `round.node` ballot is above `ballot`. */
function above(shown: string, ballot: { round: number; node: number }): boolean {
  const [round, node] = shown.split('.').map(Number) as [number, number]
  return round > ballot.round || (round === ballot.round && node > ballot.node)
}
/** POST/DELETE a member change, again until the leader takes it (503 in an election, 409 while one settles). */
async function changeMembers(cluster: TestCluster, path: string, method: 'POST' | 'DELETE', body?: unknown): Promise<void> {
  await waitFor(`${method} ${path}`, async () => {
    const url = `${cluster.url(cluster.ids[0]!)}${path}`
    const response = await fetch(url, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }), signal: AbortSignal.timeout(15_000) }).catch(() => null)
    return response?.ok === true ? true : null
  }, 60_000)
}

let browser: Browser | null = null
afterEach(async () => {
  await browser?.close()
  browser = null
})

describe('live page', () => {
  it('shows the members and the leader, a page write in the slot grid with its receipt, and a new ballot after kill -9 of the leader', async () => {
    const cluster = await newCluster(3)
    const firstLeader = await cluster.leader()
    // Serve the page from a follower: the page must keep working when the leader dies.
    let serving = cluster.ids.find((id) => id !== firstLeader)!
    browser = await openBrowser()
    const { page } = browser
    await page.goto(`${cluster.url(serving)}/ui`)
    await page.locator('#members tbody tr').nth(2).waitFor()
    await expect.poll(() => page.locator('#members tr[data-role="leader"]').count(), { timeout: 20_000 }).toBe(1)
    expect(await page.locator('#members tbody tr').count()).toBe(3)

    await page.fill('#write-key', 'from-the-page')
    await page.fill('#write-value', 'hello paxos')
    await page.click('#write-form button')
    // Under load a write can time out in a leader change (503), or be chosen under a leader that
    // then died, whose receipt the new leader cannot give: the page says so; write again.
    await expect.poll(async () => {
      const shown = (await page.locator('#receipt').textContent()) ?? ''
      if (shown.includes('write failed') || shown.includes('not seen by the leader')) await page.click('#write-form button')
      const ballot = page.locator('[data-receipt="ballot"]')
      return (await ballot.count()) === 0 ? 'none' : ballot.textContent()
    }, { timeout: 60_000, interval: 250 }).toMatch(/^\d+\.\d+$/)
    expect(browser.errors).toEqual([])
    const slot = await page.locator('[data-receipt="slot"]').textContent()
    expect(Number(slot)).toBeGreaterThan(0)
    // The receipt names the leader that chose the write, and its ballot (round.leader).
    const ballotText = (await page.locator('[data-receipt="ballot"]').textContent())!
    const [round, leader] = ballotText.split('.').map(Number) as [number, number]
    expect(await page.locator('[data-receipt="leader"]').textContent()).toBe(String(leader))
    expect((await page.locator('[data-receipt="quorum"]').textContent())!.split(',').length).toBeGreaterThanOrEqual(2)
    // The slot's column lights up, and a majority of acceptors shows it chosen.
    const column = page.locator(`#slot-grid td.mine[data-slot="${slot}"]`)
    await expect.poll(() => column.count(), { timeout: 20_000 }).toBe(3)
    await expect.poll(() => page.locator(`#slot-grid td.chosen[data-slot="${slot}"]`).count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(2)
    await screenshot(page, 'write-receipt', ['section:has(#slot-grid)', 'section:has(#receipt)'])

    if (leader === serving) {
      // Leadership moved to the serving node meanwhile (a loaded machine): watch from another.
      serving = cluster.ids.find((id) => id !== leader)!
      await page.goto(`${cluster.url(serving)}/ui`)
      await page.locator('#members tr[data-role="leader"]').waitFor({ timeout: 20_000 })
    }
    await cluster.kill(leader)
    await expect.poll(() => page.locator(`#members tr[data-member="${leader}"]`).getAttribute('data-role'), { timeout: 20_000 }).toBe('down')
    // A new leader: its election appears on the timeline with a higher ballot, led.
    const ballot = { round, node: leader }
    await expect.poll(async () => {
      const items = await page.locator('#elections li[data-ballot]').evaluateAll((nodes) => nodes.map((node) => [node.getAttribute('data-ballot') ?? '', node.textContent ?? '']))
      return items.some(([shown, text]) => above(shown!, ballot) && /(led|seen leading) after/.test(text!))
    }, { timeout: 30_000 }).toBe(true)
    expect(await page.locator('#timeline [data-leader-ballot]').evaluateAll((bars) => bars.map((bar) => bar.getAttribute('data-leader-ballot') ?? '')))
      .toSatisfy((ballots: string[]) => ballots.some((shown) => above(shown, ballot)))
    await expect.poll(() => page.locator('#members tr[data-role="leader"]').count(), { timeout: 20_000 }).toBe(1)
    await screenshot(page, 'leader-killed', ['section:has(#members)', 'section:has(#timeline)'])
  })

  it('follows the member list: a member added while the page is open appears as a learner, then a voter, and goes when removed', async () => {
    const cluster = await newCluster(3)
    await cluster.leader()
    browser = await openBrowser()
    const { page } = browser
    await page.goto(`${cluster.url(1)}/ui`)
    await page.locator('#members tbody tr').nth(2).waitFor()
    const id = await cluster.addPort()
    await changeMembers(cluster, '/v1/members', 'POST', { id, url: cluster.url(id), learner: true })
    cluster.startNode(id, [cliPath, 'serve', '--id', String(id), '--port', String(cluster.ports[id - 1]), '--data', join(cluster.dataRoot, String(id)), '--join', cluster.url(1), '--secret', secret])
    const row = page.locator(`#members tr[data-member="${id}"]`)
    await expect.poll(() => row.getAttribute('data-voter'), { timeout: 30_000 }).toBe('no')
    // Its own feed reaches the page: the row shows it up, with its role, not only its id.
    await expect.poll(() => row.getAttribute('data-role'), { timeout: 30_000 }).toBe('follower')
    await changeMembers(cluster, `/v1/members/${id}/promote`, 'POST')
    await expect.poll(() => row.getAttribute('data-voter'), { timeout: 30_000 }).toBe('yes')
    expect(await page.locator('#members tbody tr').count()).toBe(4)
    await screenshot(page, 'member-added', ['section:has(#members)'])
    await changeMembers(cluster, `/v1/members/${id}`, 'DELETE')
    await expect.poll(() => page.locator('#members tbody tr').count(), { timeout: 30_000 }).toBe(3)
    expect(browser.errors).toEqual([])
  })
})
