/**
 * `histogram.native.observe.labels3`: a labelled `observe` with three labels on a native-only
 * histogram (default options: schema 3, at most 160 buckets), against prom-client's classic
 * `observe` with its default buckets (prom-client has no native histograms).
 */
import { observeScenario } from './lib/observe.js';
import type { Scenario } from './lib/types.js';

/** The scenario. */
export const scenario: Scenario = observeScenario({
  id: 'histogram.native.observe.labels3',
  metric: 'bench_native_duration_seconds',
  method:
    'histogram.observe(labels, value) on a native-only histogram (nativeHistogram: true), cycling through 100 label objects and 12 values; peer: prom-client classic observe with default buckets; median ns/op.',
  limit:
    'observe does the labelled series lookup of inc, the classic +Inf/sum/count updates, a bucket index (a log2 guess checked against a per-schema table) and a cached bucket position checked against the slots before its count is added.',
  nativeHistogram: true,
});
