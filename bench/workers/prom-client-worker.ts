/**
 * A node:cluster worker holding the scrape data in prom-client's default registry, answering
 * the primary's `AggregatorRegistry.clusterMetrics()` requests.
 *
 * Environment: BENCH_WORKER_INDEX, BENCH_LABEL_SETS.
 */
import promClient from 'prom-client';
import { LABEL_NAMES } from '../lib/labels.js';
import { applyWorkerData, SCRAPE_COUNTER, SCRAPE_HISTOGRAM } from '../lib/scrape-data.js';

// Constructing an AggregatorRegistry in a worker installs prom-client's request listener.
new promClient.AggregatorRegistry();
const counter = new promClient.Counter({
  name: SCRAPE_COUNTER,
  help: 'bench',
  labelNames: LABEL_NAMES,
});
const histogram = new promClient.Histogram({
  name: SCRAPE_HISTOGRAM,
  help: 'bench',
  labelNames: LABEL_NAMES,
});
applyWorkerData(
  Number(process.env.BENCH_WORKER_INDEX),
  Number(process.env.BENCH_LABEL_SETS),
  counter,
  histogram,
);
process.send?.({ ready: true });
process.on('disconnect', () => process.exit(0));
