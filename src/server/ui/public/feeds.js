// One EventSource per member, all through the serving node (`?node=N` relays that member's
// feed), so the page needs no cross-origin request. A feed that fails is reopened: EventSource
// gives up by itself when the relay answers an error (the member is down).
const reopenMs = 1000

export function openFeed(url, handlers) {
  let source = null
  let closed = false
  const open = () => {
    if (closed) return
    source = new EventSource(url)
    source.addEventListener('hello', (event) => handlers.hello(JSON.parse(event.data)))
    source.addEventListener('frame', (event) => handlers.frame(JSON.parse(event.data)))
    source.addEventListener('error', () => {
      handlers.down()
      if (source.readyState === EventSource.CLOSED) setTimeout(open, reopenMs)
    })
  }
  open()
  return {
    close: () => {
      closed = true
      source?.close()
    },
  }
}
