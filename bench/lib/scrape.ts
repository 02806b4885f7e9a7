/**
 * The scrape scenarios: 8 worker processes each holding a counter and a histogram with `sets`
 * label sets. Ours: 8 real forked processes write their FileStore files and stay alive; this
 * process (a 9th worker with no series of its own, as the one answering GET /metrics would be)
 * renders the merged exposition with `registry.metrics()`. Peer: prom-client's
 * `AggregatorRegistry.clusterMetrics()` in this process as the node:cluster primary, with 8
 * real cluster workers holding the same data. A prom-client failure (its fixed 5 s timeout) is
 * recorded as such, with a null figure and ratio.
 */
import type { ChildProcess } from 'node:child_process';
import cluster, { type Worker } from 'node:cluster';
import { rmSync } from 'node:fs';
import { Counter, FileStore, Histogram, MemoryStore, Registry } from '@promfork/core';
import promClient from 'prom-client';
import { LABEL_NAMES } from './labels.js';
import { median, timeAsync } from './measure.js';
import { peerName } from './peers.js';
import { forkReady, runForMessage, stopAll, workerScript } from './processes.js';
import { applyWorkerData, SCRAPE_COUNTER, SCRAPE_HISTOGRAM } from './scrape-data.js';
import { makeTempDir } from './stores.js';
import { type BenchResult, result, type ScenarioContext } from './types.js';

/** Number of worker processes in every scrape scenario. */
export const WORKERS = 8;
const READY_TIMEOUT_MS = 120_000;
/**
 * Scrapes before the warm ones are timed, stopped early after {@link WARMUP_MS}: a
 * long-running worker's scrape runs optimised code, and the first few after the cold one are
 * still being compiled (8x1000: the median of 7 scrapes right after the cold one was 26 ms,
 * of 200 9.5 ms, on the same build).
 */
export const WARMUP_SCRAPES = 30;
/** Time bound of the warm-up (8x10000 scrapes take a few hundred ms each before the work). */
const WARMUP_MS = 3000;
/** Label sets per worker of the files a cold-scrape process compiles its code on. */
const COLD_WARM_SETS = 1000;

/** Declares the scrape metrics on `store` in a fresh registry. */
export function scrapeRegistry(store: FileStore | MemoryStore): Registry {
  const registry = new Registry();
  const options = { help: 'bench', labelNames: LABEL_NAMES, registers: [registry], store };
  const counter = new Counter({ name: SCRAPE_COUNTER, ...options });
  const histogram = new Histogram({ name: SCRAPE_HISTOGRAM, ...options });
  void counter;
  void histogram;
  return registry;
}

/** The merged families a MemoryStore holds after all `workers` workers' updates. */
export async function expectedFamilies(workers: readonly number[], sets: number): Promise<string> {
  const store = new MemoryStore();
  const registry = new Registry();
  const options = { help: 'bench', labelNames: LABEL_NAMES, registers: [registry], store };
  const counter = new Counter({ name: SCRAPE_COUNTER, ...options });
  const histogram = new Histogram({ name: SCRAPE_HISTOGRAM, ...options });
  for (const index of workers) applyWorkerData(index, sets, counter, histogram);
  return scrapedFamilies(registry);
}

/** The two scrape families as rendered by `registry`, lines sorted (order is not meaning). */
export async function scrapedFamilies(registry: Registry): Promise<string> {
  const text =
    (await registry.getSingleMetricAsString(SCRAPE_COUNTER)) +
    (await registry.getSingleMetricAsString(SCRAPE_HISTOGRAM));
  return text.split('\n').sort().join('\n');
}

/** Runs `scrape` up to {@link WARMUP_SCRAPES} times, stopping once {@link WARMUP_MS} have passed. */
export async function warmUp(scrape: () => Promise<unknown>): Promise<number> {
  const start = Date.now();
  let done = 0;
  while (done < WARMUP_SCRAPES && Date.now() - start < WARMUP_MS) {
    await scrape();
    done++;
  }
  return done;
}

/** Starts `count` processes concurrently; if any fails, stops the others and rethrows. */
export async function forkAll(
  count: number,
  args: (index: number) => string[],
): Promise<ChildProcess[]> {
  const settled = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      forkReady(workerScript('file-writer'), args(i), READY_TIMEOUT_MS),
    ),
  );
  const children = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await stopAll(children);
    throw (failed as PromiseRejectedResult).reason;
  }
  return children;
}

async function measureOurs(
  id: string,
  sets: number,
  rounds: number,
  context: ScenarioContext,
): Promise<{ warm: number; cold: number; coldHere: number }> {
  const dir = makeTempDir(id);
  const warmDir = makeTempDir(`${id}-warm`);
  let writers: ChildProcess[] = [];
  try {
    writers = await forkAll(2 * WORKERS, (i) =>
      i < WORKERS
        ? [dir, String(i), String(sets), 'hold']
        : [warmDir, String(i - WORKERS), String(COLD_WARM_SETS), 'hold'],
    );
    const colds = await coldScrapes(warmDir, dir, context.quick ? 3 : 5);
    const store = new FileStore({ dir });
    try {
      const registry = scrapeRegistry(store);
      const coldStart = process.hrtime.bigint();
      const first = await registry.metrics();
      const coldHere = Number(process.hrtime.bigint() - coldStart) / 1e6;
      const warmups = await warmUp(() => registry.metrics());
      const ms = await timeAsync(rounds, () => registry.metrics());
      const expected = await expectedFamilies(
        Array.from({ length: WORKERS }, (_, i) => i),
        sets,
      );
      if ((await scrapedFamilies(registry)) !== expected) {
        throw new Error(
          `${id}: the merged FileStore scrape differs from the MemoryStore reference`,
        );
      }
      context.note(
        id,
        `ours: \`${id}\` is the median of ${rounds} warm scrapes taken after ${warmups} ` +
          `unmeasured ones (a long-running worker's: code optimised, files ` +
          `re-read, parsed entries and rendered labels cached); \`${id}.cold\` the median first ` +
          `scrape of a fresh store and registry in ${colds.length} new processes (nothing cached, ` +
          `code compiled on other files: ${colds.map((c) => `${c.ms.toFixed(0)} ms, ${c.faults} page faults`).join('; ')}), ` +
          `\`${id}.cold.bench_process\` the same in this process after the scenarios before it ` +
          `(${coldHere.toFixed(1)} ms); ` +
          `${(first.length / 1e6).toFixed(1)} MB of text; the merged output equals a MemoryStore holding all 8 workers' updates.`,
      );
      return { warm: ms, cold: median(colds.map((c) => c.ms)), coldHere };
    } finally {
      store.close();
    }
  } finally {
    await stopAll(writers);
    rmSync(dir, { recursive: true, force: true });
    rmSync(warmDir, { recursive: true, force: true });
  }
}

/** What one cold-scrape process measured (bench/workers/cold-scraper.ts). */
interface ColdScrape {
  readonly ms: number;
  readonly faults: number;
}

/**
 * The first scrape of `dir` in `runs` new processes, one after another, each compiling its
 * code on `warmDir` first (bench/workers/cold-scraper.ts says why not in this process).
 */
async function coldScrapes(warmDir: string, dir: string, runs: number): Promise<ColdScrape[]> {
  const colds: ColdScrape[] = [];
  for (let i = 0; i < runs; i++) {
    const message = (await runForMessage(
      workerScript('cold-scraper'),
      [warmDir, dir],
      READY_TIMEOUT_MS,
    )) as ColdScrape;
    colds.push({ ms: message.ms, faults: message.faults });
  }
  return colds;
}

function forkClusterWorkers(sets: number): Promise<Worker[]> {
  cluster.setupPrimary({ exec: workerScript('prom-client-worker'), args: [], silent: false });
  const workers = Array.from({ length: WORKERS }, (_, i) =>
    cluster.fork({ BENCH_WORKER_INDEX: String(i), BENCH_LABEL_SETS: String(sets) }),
  );
  return Promise.all(
    workers.map(
      (worker) =>
        new Promise<Worker>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error('prom-client worker not ready in time')),
            READY_TIMEOUT_MS,
          );
          worker.on('message', (message: unknown) => {
            if ((message as { ready?: boolean } | null)?.ready === true) {
              clearTimeout(timer);
              resolve(worker);
            }
          });
          worker.once('exit', () => {
            clearTimeout(timer);
            reject(new Error('prom-client worker exited before it was ready'));
          });
        }),
    ),
  ).catch(async (error: unknown) => {
    await stopClusterWorkers(workers);
    throw error;
  });
}

async function stopClusterWorkers(workers: readonly Worker[]): Promise<void> {
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) {
            resolve();
            return;
          }
          const timer = setTimeout(() => worker.process.kill('SIGKILL'), 2000);
          worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          worker.process.kill('SIGTERM');
        }),
    ),
  );
}

async function measurePeer(
  id: string,
  sets: number,
  rounds: number,
  context: ScenarioContext,
): Promise<number | null> {
  const workers = await forkClusterWorkers(sets);
  try {
    const aggregator = new promClient.AggregatorRegistry();
    return await timeAsync(rounds, () => aggregator.clusterMetrics());
  } catch (error) {
    context.note(
      id,
      `peer failed: prom-client clusterMetrics() rejected with "${(error as Error).message}" (recorded as null).`,
    );
    return null;
  } finally {
    await stopClusterWorkers(workers);
  }
}

/** Runs one scrape scenario for `sets` label sets per metric and worker. */
export async function runScrape(
  id: string,
  sets: number,
  context: ScenarioContext,
): Promise<BenchResult[]> {
  const rounds = context.quick ? 3 : 7;
  context.limit(
    id,
    'A warm scrape reads every file whole (into memory kept from earlier reads), checks every ' +
      'entry and series check, refills the merged series it keeps between scrapes (no key ' +
      'look-up where a file lists the same series as last time) and writes the text into one ' +
      "buffer from each series' cached line prefix; a cold one parses every entry (the JSON of " +
      'each key) and renders every label set once. Both swing with the load of the shared ' +
      'machine (see "Where the remaining microseconds go").',
  );
  context.limit(
    `${id}.cold`,
    'A cold scrape reads every file into new memory (through one reused 1 MiB buffer), ' +
      'parses every entry (into typed arrays), escapes every label set once into the ' +
      "renderer's prefix arena and builds the merged series and their plans; then the text " +
      'goes into a new buffer and `metrics()` copies it into a new string. On this VM the ' +
      'first touch of a page costs about 11 µs, and a cold 8x10000 scrape touches 11,000-' +
      '13,000 new pages (the 18 MB of file images, the 14 MB text buffer, the 14 MB string, ' +
      'the kept series): 120-165 ms of its time, GC another 30-50. It is measured in new ' +
      "processes whose code was compiled on other files as the runner's was " +
      '(`.cold.bench_process`, the same scrape in the runner after the scenarios before it, ' +
      'pays for their heap too: 17,000-19,500 faults and more GC). See "Where the remaining ' +
      'microseconds go".',
  );
  context.log(`ours: ${WORKERS} FileStore writers × ${sets} label sets`);
  const ours = await measureOurs(id, sets, rounds, context);
  context.log(`peer: ${WORKERS} prom-client cluster workers × ${sets} label sets`);
  const peer = await measurePeer(id, sets, context.quick ? 2 : 5, context);
  return [
    result(id, 'ms', ours.warm, peer, peerName('prom-client')),
    result(`${id}.cold`, 'ms', ours.cold, peer, peerName('prom-client')),
    result(`${id}.cold.bench_process`, 'ms', ours.coldHere, null, ''),
  ];
}
