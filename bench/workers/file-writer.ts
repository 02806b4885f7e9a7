/**
 * A worker of the scrape and churn scenarios: writes its share of the scrape data into its own
 * file in the directory given, then either stays alive until told to stop (`hold`: a live
 * worker) or exits at once (`exit`: one short worker lifetime).
 *
 * Usage: file-writer.js <dir> <index> <labelSets> <hold|exit> [counter]
 * (`counter`: only the counter gets series, as in scrape.1x1000000.)
 */
import { Counter, FileStore, Histogram, Registry } from '@promfork/core';
import { LABEL_NAMES } from '../lib/labels.js';
import { applyWorkerData, SCRAPE_COUNTER, SCRAPE_HISTOGRAM } from '../lib/scrape-data.js';

const [dir, indexText, setsText, mode, only] = process.argv.slice(2);
if (
  dir === undefined ||
  indexText === undefined ||
  setsText === undefined ||
  (mode !== 'hold' && mode !== 'exit') ||
  (only !== undefined && only !== 'counter')
) {
  throw new Error('usage: file-writer.js <dir> <index> <labelSets> <hold|exit> [counter]');
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
applyWorkerData(
  Number(indexText),
  Number(setsText),
  counter,
  only === 'counter' ? { observe: () => {} } : histogram,
);
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
