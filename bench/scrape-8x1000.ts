/**
 * `scrape.8x1000`: the merged /metrics of 8 workers, 1,000 label sets per metric (a counter
 * and a histogram) per worker. See lib/scrape.ts for how each side is set up.
 */
import { runScrape } from './lib/scrape.js';
import type { Scenario } from './lib/types.js';

/** The scenario. */
export const scenario: Scenario = {
  name: 'scrape.8x1000',
  method:
    'ours: registry.metrics() merging the FileStore files of 8 live forked workers (1k label sets per metric each); peer: AggregatorRegistry.clusterMetrics() with 8 node:cluster workers holding the same data; median ms of warm scrapes after a warm-up (up to 30 scrapes or 3 s: a long-running worker runs optimised code) (`.cold`: the median first scrape of a fresh store in new processes, each compiled first on other files by one cold and 30 warm scrapes of 8x1000; `.cold.bench_process`: the first scrape of a fresh store in the runner, after the scenarios before it).',
  run: (context) => runScrape('scrape.8x1000', 1000, context),
};
