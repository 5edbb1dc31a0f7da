// Throughput and commit-latency charts with uPlot (served by the node from its npm package).
import uPlot from '/ui/uPlot.esm.js'

const windowSeconds = 5 * 60

function size(target) {
  return { width: Math.max(300, target.clientWidth - 4), height: 180 }
}

function makeChart(target, series) {
  const options = {
    ...size(target),
    // Always the last five minutes, however few points there are yet.
    scales: { x: { time: true, range: () => [Date.now() / 1000 - windowSeconds, Date.now() / 1000] }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [{}, { size: 50 }],
    series: [{}, ...series],
    legend: { live: false },
  }
  return new uPlot(options, [[], ...series.map(() => [])], target)
}

/** Writes applied per second, one point per second, from the leader's revision over time. */
function throughputPoints(revisions) {
  const xs = []
  const ys = []
  let start = 0
  for (let index = 1; index < revisions.length; index += 1) {
    const [fromMs, fromRevision] = revisions[start]
    const [toMs, toRevision] = revisions[index]
    if (toMs - fromMs < 1000) continue
    xs.push(toMs / 1000)
    ys.push(Math.max(0, (toRevision - fromRevision) / ((toMs - fromMs) / 1000)))
    start = index
  }
  return [xs, ys]
}

export function createCharts(throughputTarget, latencyTarget) {
  const throughput = makeChart(throughputTarget, [{ label: 'writes/s', stroke: '#3867d6', width: 2, fill: 'rgba(56,103,214,0.1)' }])
  const latency = makeChart(latencyTarget, [
    { label: 'p50 ms', stroke: '#2e9e5b', width: 2 },
    { label: 'p99 ms', stroke: '#e3a008', width: 2 },
  ])
  addEventListener('resize', () => {
    throughput.setSize(size(throughputTarget))
    latency.setSize(size(latencyTarget))
  })
  return {
    update(state) {
      throughput.setData(throughputPoints(state.revisions))
      const samples = state.latencies
      latency.setData([samples.map((sample) => sample[0] / 1000), samples.map((sample) => sample[1]), samples.map((sample) => sample[2])])
    },
  }
}
