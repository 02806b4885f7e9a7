/**
 * `histogram.observe.labels3`: a labelled `observe` with three labels and Prometheus' default
 * buckets, against prom-client's `observe`.
 */
import { Histogram } from '@promfork/core';
import promClient from 'prom-client';
import { LABEL_SETS, labels3Metric, OBSERVATIONS } from './lib/labels.js';
import { runMicro } from './lib/micro.js';
import type { Scenario } from './lib/types.js';

const METRIC = 'bench_duration_seconds';
const SETS = LABEL_SETS.length;
const VALUES = OBSERVATIONS.length;

/** The scenario. */
export const scenario: Scenario = {
  name: 'histogram.observe.labels3',
  method:
    'histogram.observe(labels, value) with default buckets, cycling through 100 label objects and 12 values; median ns/op.',
  run: (context) =>
    runMicro(
      {
        id: 'histogram.observe.labels3',
        metric: METRIC,
        limit:
          "observe does the labelled series lookup of inc plus a bucket search and three slot updates (bucket, sum, count), each marking its block dirty on the FileStore; prom-client's observe does comparable bucket work, so the ratio is bounded by that shared work.",
        ours(store, registry) {
          const histogram = new Histogram({
            ...labels3Metric(METRIC),
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
