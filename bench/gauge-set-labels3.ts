/**
 * `gauge.set.labels3`: a labelled `set` with three labels, against prom-client's `set`.
 * The gauge uses the `livesum` mode so that one process's FileStore output has no `pid` label
 * and can be compared with the MemoryStore's.
 */
import { Gauge } from '@promfork/core';
import promClient from 'prom-client';
import { LABEL_SETS, labels3Metric } from './lib/labels.js';
import { runMicro } from './lib/micro.js';
import type { Scenario } from './lib/types.js';

const METRIC = 'bench_in_flight';
const SETS = LABEL_SETS.length;

/** The scenario. */
export const scenario: Scenario = {
  name: 'gauge.set.labels3',
  method: 'gauge.set(labels, i) cycling through 100 label objects; median ns/op.',
  run: (context) =>
    runMicro(
      {
        id: 'gauge.set.labels3',
        metric: METRIC,
        limit: 'No goal (report only).',
        ours(store, registry) {
          const gauge = new Gauge({
            ...labels3Metric(METRIC),
            registers: [registry],
            store,
            multiprocessMode: 'livesum',
          });
          return (i) => gauge.set(LABEL_SETS[i % SETS]!, i);
        },
        peer(registry) {
          const gauge = new promClient.Gauge({ ...labels3Metric(METRIC), registers: [registry] });
          return (i) => gauge.set(LABEL_SETS[i % SETS]!, i);
        },
      },
      context,
    ),
};
