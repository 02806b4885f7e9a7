/**
 * `histogram.observe.labels3`: a labelled `observe` with three labels and Prometheus' default
 * buckets, against prom-client's `observe`.
 */
import { observeScenario } from './lib/observe.js';
import type { Scenario } from './lib/types.js';

/** The scenario. */
export const scenario: Scenario = observeScenario({
  id: 'histogram.observe.labels3',
  metric: 'bench_duration_seconds',
  method:
    'histogram.observe(labels, value) with default buckets, cycling through 100 label objects and 12 values; median ns/op.',
  limit:
    "observe does the labelled series lookup of inc plus a bucket search and three slot updates (bucket, sum, count), each marking its block dirty on the FileStore; prom-client's observe does comparable bucket work, so the ratio is bounded by that shared work.",
});
