/**
 * Watch streams: every stream's events equal the applied history for its keys over the
 * revisions it covered (from its start to the last revision it read), in order, with no gap and
 * no repeat, whichever nodes served it, across crashes, restores and snapshot installs. The
 * reference is one state machine that applied every chosen slot once, in order.
 */
import type { ChangeHistory } from '../../../src/kv/change-history.js'
import { revision } from '../../../src/core/index.js'
import { eventChanges, type WatchStream } from '../sim-watchers.js'

const reportedMax = 5

export function checkWatchStreams(streams: readonly WatchStream[], reference: Pick<ChangeHistory, 'read' | 'servedFrom'>): string[] {
  const violations: string[] = []
  for (const stream of streams) {
    if (stream.next <= stream.start) continue
    const read = reference.read(revision(stream.start), Number.MAX_SAFE_INTEGER)
    if (read.type === 'compacted') continue // the reference keeps more than any run applies; never here
    const expected = read.entries
      .filter((entry) => entry.revision < stream.next)
      .flatMap((entry) => {
        const changes = eventChanges(entry.changes, stream.prefix)
        return changes === null ? [] : [{ revision: entry.revision as number, changes }]
      })
    const seen = JSON.stringify(stream.events)
    if (seen !== JSON.stringify(expected) && violations.length < reportedMax) {
      const first = stream.events.findIndex((event, index) => JSON.stringify(event) !== JSON.stringify(expected[index]))
      violations.push(`watch-streams: a stream of prefix ${JSON.stringify(stream.prefix)} on nodes ${stream.nodes.join(',')} from revision ${stream.start} to ${stream.next - 1} saw ${stream.events.length} events, the applied history has ${expected.length}; first difference at event ${first < 0 ? stream.events.length : first}: ${JSON.stringify(stream.events[first] ?? null)} vs ${JSON.stringify(expected[first < 0 ? stream.events.length : first] ?? null)}`)
    }
  }
  return violations
}
