/**
 * What the per-series checks (packages/core/src/file-store/series-check.ts) cost: run by hand
 * with `node bench/dist/flush-checks.js [--quick]`, not part of `npm run bench` (it measures a
 * variant that does not exist in the product: the same store with the checks switched off).
 *
 * - Flush: a FileStore whose file holds 1000 counter series, 100 histogram series (default
 *   buckets) and a summary; each op changes 1 counter, 3 histogram series or the summary and
 *   then flushes (one positioned write, as at the end of an event-loop turn). Two stores with
 *   the same content alternate rounds: one as shipped, one whose check refresh is replaced by
 *   a no-op (the flush as it was before the checks).
 * - Scrape: a scraping FileStore merging 4 such files, against the same 4 files with the
 *   header flag "series carry checks" cleared (read unchecked, as files of older writers).
 *
 * Prints the median CPU time (user + system, process.cpuUsage) per flush and per scrape of each
 * variant and their ratios: on a shared machine, wall time mostly measures the other load.
 */
import { closeSync, cpSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, FileStore, Histogram, Registry, Summary } from '@promfork/core';
import { median } from './lib/measure.js';
import { makeTempDir } from './lib/stores.js';

const quick = process.argv.includes('--quick');
const COUNTERS = 1000;
const HISTOGRAMS = 100;

interface Filled {
  readonly store: FileStore;
  readonly dir: string;
  readonly counter: (i: number) => void;
  readonly histogram3: (i: number) => void;
  readonly summary: (i: number) => void;
}

/** A store in a fresh directory holding the file described in the module comment. */
function filled(prefix: string, dir = makeTempDir(prefix)): Filled {
  const store = new FileStore({ dir, compactDeadProcesses: false });
  const registry = new Registry();
  const counter = new Counter({
    name: 'flush_counter_total',
    help: 'c',
    labelNames: ['i'],
    registers: [registry],
    store,
  });
  const histogram = new Histogram({
    name: 'flush_histogram_seconds',
    help: 'h',
    labelNames: ['i'],
    registers: [registry],
    store,
  });
  const summary = new Summary({
    name: 'flush_summary_seconds',
    help: 's',
    registers: [registry],
    store,
  });
  const counters = Array.from({ length: COUNTERS }, (_, i) => counter.labels(String(i)));
  const histograms = Array.from({ length: HISTOGRAMS }, (_, i) => histogram.labels(String(i)));
  for (const c of counters) c.inc();
  for (const h of histograms) h.observe(0.1);
  summary.observe(0.1);
  store.flush();
  return {
    store,
    dir,
    counter: (i) => {
      counters[(i * 7) % COUNTERS]!.inc();
      store.flush();
    },
    histogram3: (i) => {
      for (let k = 0; k < 3; k++)
        histograms[(i * 13 + k * 37) % HISTOGRAMS]!.observe((i % 50) / 10);
      store.flush();
    },
    summary: (i) => {
      summary.observe((i % 50) / 10);
      store.flush();
    },
  };
}

/** Switches the check refresh of `store`'s file off (the flush before the checks). */
function withoutChecks(store: FileStore): void {
  // A private field on purpose: this variant exists only to measure what the checks add.
  const file = (store as unknown as { file: { checks: { refresh(): void } } }).file;
  file.checks.refresh = () => {};
}

/** CPU nanoseconds per call of `body(i)` over `ops` calls. */
function cpuLoop(ops: number, body: (i: number) => void): number {
  const start = process.cpuUsage();
  for (let i = 0; i < ops; i++) body(i);
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / ops;
}

/** Median CPU ns per call of each body, warm-up first, rounds alternating between them. */
function compareCpu(
  plan: { ops: number; rounds: number; warmup: number },
  bodies: readonly ((i: number) => void)[],
): number[] {
  for (const body of bodies) cpuLoop(plan.warmup, body);
  const samples = bodies.map((): number[] => []);
  for (let round = 0; round < plan.rounds; round++) {
    bodies.forEach((body, k) => {
      samples[k]!.push(cpuLoop(plan.ops, body));
    });
  }
  return samples.map(median);
}

function measureFlush(): void {
  const plan = quick
    ? { ops: 20_000, rounds: 7, warmup: 20_000 }
    : { ops: 100_000, rounds: 15, warmup: 100_000 };
  const shipped = filled('flush-checks');
  const before = filled('flush-nochecks');
  withoutChecks(before.store);
  try {
    for (const op of ['counter', 'histogram3', 'summary'] as const) {
      const [withNs, withoutNs] = compareCpu(plan, [shipped[op], before[op]]);
      console.log(
        `flush ${op}: ${withNs!.toFixed(0)} ns with checks, ${withoutNs!.toFixed(0)} ns without ` +
          `(+${(withNs! - withoutNs!).toFixed(0)} ns, ratio ${(withNs! / withoutNs!).toFixed(3)})`,
      );
    }
  } finally {
    for (const f of [shipped, before]) {
      f.store.close();
      rmSync(f.dir, { recursive: true, force: true });
    }
  }
}

/** Clears header flag bit 1 ("series carry checks") of every store file in `dir`. */
function clearCheckFlags(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.db')) continue;
    const fd = openSync(join(dir, name), 'r+');
    try {
      // flags (offset 12): archive bit 0 is not set in process files, so flags become 0.
      writeSync(fd, new Uint8Array(4), 0, 4, 12);
    } finally {
      closeSync(fd);
    }
  }
}

function measureScrape(): void {
  const checked = makeTempDir('scrape-checks');
  const writers = Array.from({ length: 4 }, () => filled('scrape-src', checked));
  for (const w of writers) w.store.close();
  const unchecked = makeTempDir('scrape-nochecks');
  cpSync(checked, unchecked, { recursive: true });
  clearCheckFlags(unchecked);
  const scrapers = [checked, unchecked].map(
    (dir) => new FileStore({ dir, compactDeadProcesses: false }),
  );
  try {
    const rounds = quick ? 15 : 61;
    const times: number[][] = [[], []];
    for (let round = 0; round < rounds + 3; round++) {
      scrapers.forEach((scraper, k) => {
        const ms = cpuLoop(1, () => scraper.collect()) / 1e6;
        if (round >= 3) times[k]!.push(ms);
      });
    }
    const [withMs, withoutMs] = times.map(median);
    console.log(
      `scrape of 4 files (${COUNTERS + HISTOGRAMS + 1} series each): ${withMs!.toFixed(2)} ms ` +
        `verified, ${withoutMs!.toFixed(2)} ms unchecked (ratio ${(withMs! / withoutMs!).toFixed(3)})`,
    );
  } finally {
    for (const s of scrapers) s.close();
    rmSync(checked, { recursive: true, force: true });
    rmSync(unchecked, { recursive: true, force: true });
  }
}

measureFlush();
measureScrape();
