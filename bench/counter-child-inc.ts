/**
 * `counter.child.inc`: `inc()` on a child bound once with `labels(...)`, promfork's fast path
 * (no label work per call), against prom-client's bound `labels(...).inc()`, which still hashes
 * the labels on every call.
 */
import { Counter } from '@promfork/core';
import promClient from 'prom-client';
import { labels3Metric } from './lib/labels.js';
import { runMicro } from './lib/micro.js';
import type { Scenario } from './lib/types.js';

const METRIC = 'bench_child_total';

/** The scenario. */
export const scenario: Scenario = {
  name: 'counter.child.inc',
  method:
    "child = counter.labels('GET', '/users/:id', '200') once, then child.inc() in the loop (both libraries); median ns/op.",
  run: (context) =>
    runMicro(
      {
        id: 'counter.child.inc',
        metric: METRIC,
        limit:
          "A bound child's inc is one slot addition (plus marking the block dirty on the FileStore).",
        ours(store, registry) {
          const counter = new Counter({ ...labels3Metric(METRIC), registers: [registry], store });
          const child = counter.labels('GET', '/users/:id', '200');
          return () => child.inc();
        },
        peer(registry) {
          const counter = new promClient.Counter({
            ...labels3Metric(METRIC),
            registers: [registry],
          });
          const child = counter.labels('GET', '/users/:id', '200');
          return () => child.inc();
        },
      },
      context,
    ),
};
