/**
 * A worker of the scrape and churn scenarios: writes its share of the scrape data into its own
 * file in the directory given, then either stays alive until told to stop (`hold`: a live
 * worker) or exits at once (`exit`: one short worker lifetime).
 *
 * Usage: file-writer.js <dir> <index> <labelSets> <hold|exit>
 */
import { Counter, FileStore, Histogram, Registry } from '@promfork/core';
import { LABEL_NAMES } from '../lib/labels.js';
import { applyWorkerData, SCRAPE_COUNTER, SCRAPE_HISTOGRAM } from '../lib/scrape-data.js';

const [dir, indexText, setsText, mode] = process.argv.slice(2);
if (
  dir === undefined ||
  indexText === undefined ||
  setsText === undefined ||
  (mode !== 'hold' && mode !== 'exit')
) {
  throw new Error('usage: file-writer.js <dir> <index> <labelSets> <hold|exit>');
}
const store = new FileStore({ dir });
const registry = new Registry();
const counter = new Counter({
  name: SCRAPE_COUNTER,
  help: 'bench',
  labelNames: LABEL_NAMES,
  registers: [registry],
  store,
});
const histogram = new Histogram({
  name: SCRAPE_HISTOGRAM,
  help: 'bench',
  labelNames: LABEL_NAMES,
  registers: [registry],
  store,
});
applyWorkerData(Number(indexText), Number(setsText), counter, histogram);
store.flush();
if (mode === 'exit') {
  store.close();
} else {
  const stop = () => {
    store.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  process.send?.({ ready: true });
}
