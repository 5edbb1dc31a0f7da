/**
 * One promise per event-loop turn, settled in the check phase after the turn's I/O callbacks.
 * Answers that need no waiting (stale reads) wait for it, so every request read in one poll
 * phase is answered in one burst. Answering each as it is parsed costs far more than it looks:
 * each response wakes the client, which on a busy machine preempts this process before it
 * reads the next request. Measured under wrk at 64 connections: 14k vs 35k stale GETs/s.
 * @module
 */
let pending: Promise<void> | null = null

export function nextTurn(): Promise<void> {
  pending ??= new Promise((resolve) =>
    setImmediate(() => {
      pending = null
      resolve()
    }),
  )
  return pending
}
