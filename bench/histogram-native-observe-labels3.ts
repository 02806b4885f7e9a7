/**
 * `histogram.native.observe.labels3`: a labelled `observe` with three labels on a native-only
 * histogram (default options: schema 3, at most 160 buckets), against prom-client's classic
 * `observe` with its default buckets (prom-client has no native histograms).
 */
import { Histogram } from '@promfork/core';
import promClient from 'prom-client';
import { LABEL_SETS, labels3Metric, OBSERVATIONS } from './lib/labels.js';
import { runMicro } from './lib/micro.js';
import type { Scenario } from './lib/types.js';

const METRIC = 'bench_native_duration_seconds';
const SETS = LABEL_SETS.length;
const VALUES = OBSERVATIONS.length;

/** The scenario. */
export const scenario: Scenario = {
  name: 'histogram.native.observe.labels3',
  method:
    'histogram.observe(labels, value) on a native-only histogram (nativeHistogram: true), cycling through 100 label objects and 12 values; peer: prom-client classic observe with default buckets; median ns/op.',
  run: (context) =>
    runMicro(
      {
        id: 'histogram.native.observe.labels3',
        metric: METRIC,
        limit:
          'observe does the labelled series lookup of inc, the classic +Inf/sum/count updates, a bucket index (a log2 guess checked against a per-schema table) and a cached bucket position checked against the slots before its count is added.',
        ours(store, registry) {
          const histogram = new Histogram({
            ...labels3Metric(METRIC),
            nativeHistogram: true,
            registers: [registry],
            store,
          });
          return (i) => histogram.observe(LABEL_SETS[i % SETS]!, OBSERVATIONS[i % VALUES]!);
        },
        peer(registry) {
          const histogram = new promClient.Histogram({
            ...labels3Metric(METRIC),
            registers: [registry],
          });
          return (i) => histogram.observe(LABEL_SETS[i % SETS]!, OBSERVATIONS[i % VALUES]!);
        },
      },
      context,
    ),
};
