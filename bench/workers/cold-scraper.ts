/**
 * The cold scrape of the scrape scenarios, in a process of its own: what a newly started
 * worker pays at its first `GET /metrics`, with its code compiled as the runner's was when it
 * measured the cold scrape in its own process: one fresh store and registry scrape
 * `<warmDir>` (8 workers x 1,000 label sets: other files, fewer series) once cold and 30
 * times warm, as the scrape.8x1000 scenario did before scrape.8x10000. Then it times ONE
 * `registry.metrics()` of a fresh FileStore and registry over `<dir>` and sends
 * `{ ms, faults, bytes }` to its parent.
 *
 * Why not in the runner's process: by then it holds the heap of the scenarios before (a
 * prom-client aggregation among them, 67 MB used at the cold scrape), and that decided a third
 * of the figure: the same build took 378-580 ms there (8 runs) against 295-332 ms in new
 * processes (3 runs of 3), with 17,000-19,500 page faults against 15,000. The warm-up is
 * not more than the runner's on purpose: three cold warm-up stores instead of one took the
 * figure to 226-268 ms (code further optimised, heap pages already touched), a state a new
 * worker does not have.
 *
 * Usage: cold-scraper.js <warmDir> <dir>
 */
import { Counter, FileStore, Histogram, Registry } from '@promfork/core';
import { LABEL_NAMES } from '../lib/labels.js';
import { SCRAPE_COUNTER, SCRAPE_HISTOGRAM } from '../lib/scrape-data.js';

const [warmDir, dir] = process.argv.slice(2);
if (warmDir === undefined || dir === undefined) {
  throw new Error('usage: cold-scraper.js <warmDir> <dir>');
}
/**
 * The scrape metrics on `store` in a fresh registry, as the runner's `scrapeRegistry` declares
 * them (not imported from there: that module loads prom-client and node:cluster, whose heap a
 * newly started worker would not have).
 */
function scrapeRegistry(store: FileStore): Registry {
  const registry = new Registry();
  const options = { help: 'bench', labelNames: LABEL_NAMES, registers: [registry], store };
  new Counter({ name: SCRAPE_COUNTER, ...options });
  new Histogram({ name: SCRAPE_HISTOGRAM, ...options });
  return registry;
}

const WARM_STORES = 1;
const WARM_SCRAPES = 30;
for (let s = 0; s < WARM_STORES; s++) {
  const store = new FileStore({ dir: warmDir });
  const registry = scrapeRegistry(store);
  for (let i = 0; i < WARM_SCRAPES; i++) await registry.metrics();
  store.close();
}
const store = new FileStore({ dir });
const registry = scrapeRegistry(store);
const faultsBefore = process.resourceUsage().minorPageFault;
const start = process.hrtime.bigint();
const text = await registry.metrics();
const ms = Number(process.hrtime.bigint() - start) / 1e6;
const faults = process.resourceUsage().minorPageFault - faultsBefore;
store.close();
process.send?.({ ms, faults, bytes: text.length }, () => process.exit(0));
