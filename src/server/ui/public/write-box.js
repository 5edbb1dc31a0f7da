// The write box: PUT a key through the serving node and show its consensus receipt; the
// receipt's slot is highlighted in the slot grid.
import { el } from './dom.js'

const receiptFields = [
  ['slot', 'x-paxos-slot', 'the log slot it was chosen in'],
  ['ballot', 'x-paxos-ballot', 'round.node of the leader that proposed it'],
  ['leader', 'x-paxos-leader', ''],
  ['quorum', 'x-paxos-quorum', 'acceptors whose accepted counted'],
  ['commit', 'x-paxos-commit-ms', 'ms from proposal to chosen'],
  ['fsync', 'x-paxos-fsync-ms', "ms of the leader's own WAL sync"],
]

export function mountWriteBox(form, output, state, onReceipt) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const key = form.elements.key.value
    const value = form.elements.value.value
    output.className = 'receipt muted'
    output.textContent = `writing ${key}…`
    try {
      const path = key.split('/').map(encodeURIComponent).join('/')
      const response = await fetch(`/v1/kv/${path}`, { method: 'PUT', body: value })
      const body = await response.json()
      if (!response.ok) throw new Error(`${response.status} ${body.error}: ${body.message}`)
      const receipt = { key, version: body.version, slot: Number(response.headers.get('x-paxos-slot')) }
      state.receipts.unshift(receipt)
      state.receipts.length = Math.min(state.receipts.length, 8)
      output.className = 'receipt'
      output.replaceChildren(
        el('div', {}, `${key} = ${JSON.stringify(value)} is version ${body.version}, chosen in slot ${receipt.slot} (highlighted in the grid)`),
        el('dl', {}, receiptFields.flatMap(([label, header, help]) => {
          const shown = response.headers.get(header)
          return [el('dt', { title: help }, label), el('dd', { 'data-receipt': label }, shown ?? 'not seen by the leader')]
        })),
      )
      onReceipt()
    } catch (error) {
      output.className = 'receipt error'
      output.textContent = `write failed: ${error.message}`
    }
  })
}
