/**
 * The labelled `observe` scenarios (`histogram.observe.labels3`, and its native-histogram
 * variant): three labels, 100 label objects and 12 values in turn, against prom-client's
 * classic `observe` with its default buckets.
 */
import { Histogram, type NativeHistogramOptions } from '@promfork/core';
import promClient from 'prom-client';
import { LABEL_SETS, labels3Metric, OBSERVATIONS } from './labels.js';
import { runMicro } from './micro.js';
import type { Scenario } from './types.js';

const SETS = LABEL_SETS.length;
const VALUES = OBSERVATIONS.length;

/** What distinguishes one observe scenario from another. */
export interface ObserveScenario {
  /** Bench id (also the scenario name). */
  readonly id: string;
  readonly metric: string;
  readonly method: string;
  /** What bounds the ratio (shown in the report). */
  readonly limit: string;
  /** Our histogram's native option (prom-client has none: its peer stays classic). */
  readonly nativeHistogram?: boolean | NativeHistogramOptions;
}

/** A scenario of labelled `observe` calls, ours against prom-client's. */
export function observeScenario(s: ObserveScenario): Scenario {
  return {
    name: s.id,
    method: s.method,
    run: (context) =>
      runMicro(
        {
          id: s.id,
          metric: s.metric,
          limit: s.limit,
          ours(store, registry) {
            const histogram = new Histogram({
              ...labels3Metric(s.metric),
              ...(s.nativeHistogram === undefined ? {} : { nativeHistogram: s.nativeHistogram }),
              registers: [registry],
              store,
            });
            return (i) => histogram.observe(LABEL_SETS[i % SETS]!, OBSERVATIONS[i % VALUES]!);
          },
          peer(registry) {
            const histogram = new promClient.Histogram({
              ...labels3Metric(s.metric),
              registers: [registry],
            });
            return (i) => histogram.observe(LABEL_SETS[i % SETS]!, OBSERVATIONS[i % VALUES]!);
          },
        },
        context,
      ),
  };
}
