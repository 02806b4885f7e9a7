/**
 * `churn.scrape`: does scrape time stay flat as workers come and go? Short worker lifetimes
 * (real forked processes, each writing 100 label sets of the scrape data into its own file and
 * exiting) run against one directory while this process stays alive as the scraping worker.
 * The figure is the median scrape time after all lifetimes divided by the one after the first
 * 10 (unitless, goal ≤ 1.5). The merged counts are checked against a MemoryStore holding every
 * lifetime's updates, and the number of files left in the directory is noted.
 */
import { readdirSync, rmSync } from 'node:fs';
import { FileStore } from '@promfork/core';
import { timeAsync } from './lib/measure.js';
import { runToExit, workerScript } from './lib/processes.js';
import { expectedFamilies, scrapedFamilies, scrapeRegistry } from './lib/scrape.js';
import { makeTempDir } from './lib/stores.js';
import { result, type Scenario, type ScenarioContext } from './lib/types.js';

const SETS = 100;
const BASELINE = 10;
const PARALLEL = 2;
const LIFETIME_TIMEOUT_MS = 60_000;
/** Unmeasured scrapes before each timed series (the baseline's ran still unoptimised code). */
const WARMUP_SCRAPES = 10;

async function runLifetimes(dir: string, from: number, to: number): Promise<void> {
  let next = from;
  const lane = async () => {
    while (next < to) {
      const index = next++;
      await runToExit(
        workerScript('file-writer'),
        [dir, String(index), String(SETS), 'exit'],
        LIFETIME_TIMEOUT_MS,
      );
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, lane));
}

async function run(context: ScenarioContext) {
  const total = context.quick ? 40 : 1000;
  // Scrapes here take a few milliseconds: enough of them that one burst of load from elsewhere
  // does not decide the median, each measurement after unmeasured ones (compiled code).
  const rounds = context.quick ? 21 : 31;
  const dir = makeTempDir('churn');
  const store = new FileStore({ dir });
  try {
    const registry = scrapeRegistry(store);
    context.log(`${BASELINE} worker lifetimes`);
    await runLifetimes(dir, 0, BASELINE);
    await registry.metrics(); // first scrape after the change: compaction, cold parse
    await timeAsync(WARMUP_SCRAPES, () => registry.metrics());
    const baseline = await timeAsync(rounds, () => registry.metrics());
    context.log(`${total - BASELINE} more worker lifetimes`);
    await runLifetimes(dir, BASELINE, total);
    const firstStart = process.hrtime.bigint();
    await registry.metrics();
    const first = Number(process.hrtime.bigint() - firstStart) / 1e6;
    await timeAsync(WARMUP_SCRAPES, () => registry.metrics());
    const after = await timeAsync(rounds, () => registry.metrics());
    const expected = await expectedFamilies(
      Array.from({ length: total }, (_, i) => i),
      SETS,
    );
    if ((await scrapedFamilies(registry)) !== expected) {
      throw new Error('churn.scrape: the merged counts differ from the MemoryStore reference');
    }
    const files = readdirSync(dir).length;
    context.note(
      'churn.scrape',
      `${total} worker lifetimes (${context.quick ? 'quick run; the full run uses 1000' : 'full run'}): ` +
        `median scrape ${baseline.toFixed(2)} ms after ${BASELINE}, ${after.toFixed(2)} ms after ${total} ` +
        `(first scrape after the churn ${first.toFixed(1)} ms); ${files} files left in the directory ` +
        '(the scraper’s own included); merged counts equal the MemoryStore reference.',
    );
    context.limit(
      'churn.scrape',
      files > PARALLEL + 2
        ? `Dead workers' files are not folded into the archive in this build (${files} files after ${total} lifetimes), so every scrape still reads every file; compaction is what keeps this flat.`
        : 'The directory stays small; what remains is the per-scrape cost of reading the archive.',
    );
    return [result('churn.scrape', 'ratio', after / baseline, null, '')];
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The scenario. */
export const scenario: Scenario = {
  name: 'churn.scrape',
  method:
    'short-lived forked workers (100 label sets each) write and exit against one directory; median scrape time after all of them ÷ after the first 10; no peer.',
  run,
};
