/**
 * `scrape.1x1000000`: one worker process holding a counter with 1,000,000 label sets (a 67 MB
 * file), scraped by this process. Figures: the median warm scrape (ms), the first scrape of a
 * fresh store (`.cold`), and `.memory`: the peak resident memory a warm scrape adds, divided
 * by the size of the exposition it returns. No peer: prom-client's cluster aggregation of
 * this much data runs into its fixed 5 s timeout already at 8 × 10,000 series.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FileStore } from '@promfork/core';
import { median } from './lib/measure.js';
import { stopAll } from './lib/processes.js';
import { forkAll, scrapeRegistry } from './lib/scrape.js';
import { SCRAPE_COUNTER } from './lib/scrape-data.js';
import { makeTempDir } from './lib/stores.js';
import { result, type Scenario } from './lib/types.js';

const ID = 'scrape.1x1000000';
const SERIES = 1_000_000;

/** Resident set size and its peak since the last reset, in bytes (Linux /proc). */
function memory(): { rss: number; peak: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]);
  return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
}

/** A full garbage collection (the flag is set at run time: the runner is started without it). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** The scenario. */
export const scenario: Scenario = {
  name: ID,
  method:
    'ours: registry.metrics() of a FileStore reading one live forked worker whose counter holds 1M label sets (one 67 MB file); median ms of warm scrapes after one unmeasured one (`.cold`: the first scrape of a fresh store); `.memory`: peak RSS during a warm scrape (VmHWM after resetting it through /proc/self/clear_refs) minus RSS before it, ÷ bytes of the exposition; no peer.',
  async run(context) {
    const rounds = context.quick ? 2 : 4;
    context.limit(
      ID,
      'A warm scrape of a million series is the read and check of the 67 MB file, one pass ' +
        "over a million kept series (refilled in place, each line's cached prefix copied), and " +
        'the 81 MB string `metrics()` returns: a copy into fresh memory, about 300 ms of page ' +
        'faults on this VM (`scrapeBytes()`, what the HTTP routes serve, skips that string). It ' +
        'swings with the load of the shared machine.',
    );
    const dir = makeTempDir(ID);
    let writers: ChildProcess[] = [];
    try {
      context.log(`one FileStore writer × ${SERIES} label sets`);
      writers = await forkAll(1, () => [dir, '0', String(SERIES), 'hold', 'counter']);
      const store = new FileStore({ dir });
      try {
        const registry = scrapeRegistry(store);
        let start = performance.now();
        let text: string | undefined = await registry.metrics();
        const cold = performance.now() - start;
        const bytes = Buffer.byteLength(text);
        const samples = text.split('\n').filter((l) => l.startsWith(SCRAPE_COUNTER)).length;
        if (samples !== SERIES)
          throw new Error(`${ID}: ${samples} counter lines, expected ${SERIES}`);
        text = undefined;
        const times: number[] = [];
        const extras: number[] = [];
        const retained: number[] = [];
        for (let round = 0; round <= rounds; round++) {
          collectGarbage();
          const before = memory().rss;
          writeFileSync('/proc/self/clear_refs', '5'); // Resets VmHWM to the current RSS.
          start = performance.now();
          text = await registry.metrics();
          const ms = performance.now() - start;
          const peak = memory().peak;
          text = undefined;
          if (round === 0) continue; // The first warm scrape is still being optimised.
          times.push(ms);
          extras.push(peak - before);
          retained.push(before);
        }
        const extra = median(extras);
        context.note(
          ID,
          `cold ${cold.toFixed(0)} ms; ${(bytes / 1e6).toFixed(1)} MB of text; a warm scrape ` +
            `adds ${(extra / 1e6).toFixed(0)} MB at its peak (median of ${rounds}) to the ` +
            `${(median(retained) / 1e6).toFixed(0)} MB resident before it (the process, and ` +
            `what the store caches between scrapes: parsed entries, rendered labels).`,
        );
        return [
          result(ID, 'ms', median(times), null, ''),
          result(`${ID}.cold`, 'ms', cold, null, ''),
          result(`${ID}.memory`, 'ratio', extra / bytes, null, ''),
        ];
      } finally {
        store.close();
      }
    } finally {
      await stopAll(writers);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
