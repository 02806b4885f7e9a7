/**
 * `scrape.8x10000`: as `scrape.8x1000` with 10,000 label sets per metric and worker, where
 * prom-client's cluster aggregation runs into its fixed 5 s timeout.
 */
import { runScrape } from './lib/scrape.js';
import type { Scenario } from './lib/types.js';

/** The scenario. */
export const scenario: Scenario = {
  name: 'scrape.8x10000',
  method:
    'as scrape.8x1000 with 10k label sets per metric and worker; a prom-client timeout is recorded as a null figure.',
  run: (context) => runScrape('scrape.8x10000', 10_000, context),
};
