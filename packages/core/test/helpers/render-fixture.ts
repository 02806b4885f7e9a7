/**
 * One rich fixture of every metric type and every corner the scrape renderers special-case
 * (escaping, empty and non-ASCII label values, exemplars, per-process gauges, summaries without
 * quantiles), shared by the tests that compare the render paths and formats.
 */
import { Counter, Gauge, Histogram, type Registry, type Store, Summary } from '../../src/index.js';

/** Label values that need escaping, are empty, are not ASCII, or look like syntax. */
const AWKWARD = ['a\\b', 'q"uote', 'new\nline', '', 'ünï©ødé 🚀', 'x,y="z"}', 200];

/** Every type and corner the renderers special-case, registered in `registry` on `store`. */
export function fixture(registry: Registry, store: Store): { update(round: number): void } {
  const iso = { registers: [registry], store };
  const requests = new Counter({
    name: 'req_total',
    help: 'Requests with "quotes", back\\slash and\nnewline',
    labelNames: ['method', 'path'],
    enableExemplars: true,
    ...iso,
  });
  const plain = new Counter({ name: 'plain_counter', help: '', ...iso });
  const perProcess = new Gauge({
    name: 'temperature',
    help: 'per process',
    labelNames: ['room'],
    multiprocessMode: 'all',
    ...iso,
  });
  const summed = new Gauge({ name: 'queue_depth', help: 'sum', multiprocessMode: 'sum', ...iso });
  const latency = new Histogram({
    name: 'latency_seconds',
    help: 'latency',
    labelNames: ['route'],
    buckets: [1e-5, 0.001, 0.5, 1, 100000, 1e6, 1.5e7],
    enableExemplars: true,
    ...iso,
  });
  const unlabelled = new Histogram({ name: 'plain_histogram', help: 'default buckets', ...iso });
  const sizes = new Summary({
    name: 'size_bytes',
    help: 'sizes',
    labelNames: ['kind'],
    percentiles: [0.01, 0.5, 0.9, 0.99, 1],
    maxAgeSeconds: 0,
    ...iso,
  });
  const noQuantiles = new Summary({
    name: 'plain_summary',
    help: 'no quantiles',
    percentiles: [],
    ...iso,
  });
  return {
    update(round) {
      AWKWARD.forEach((value, i) => {
        requests.inc({ method: 'GET', path: value }, i + round);
        if (i % 2 === 0) {
          requests.inc({
            labels: { method: 'POST', path: value },
            value: 0.5,
            exemplarLabels: { trace_id: `t${i}`, span: 'ü' },
          });
        }
        perProcess.set({ room: value }, [-0, 1.5e-7, 1e21, -3.25, 1e-300, 123456789.125][i % 6]!);
        latency.observe({ route: value }, [1e-6, 0.0005, 0.7, 3, 5e6, 2e7][i % 6]! * (round + 1));
        latency.observe({
          labels: { route: value },
          value: 0.25,
          exemplarLabels: { trace_id: `h${round}` },
        });
        sizes.observe({ kind: value }, 10 ** (i % 5) + round);
      });
      plain.inc(round + 1);
      summed.set(-42.125 - round);
      unlabelled.observe(0.3 * (round + 1));
      noQuantiles.observe(7);
    },
  };
}
