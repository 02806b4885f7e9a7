/**
 * Helpers of the compaction tests: running compiled fixtures as real processes, dead files of
 * short-lived workers, and the numbers a scrape must show once given workers have died.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompactionResult } from '../src/file-store/compaction.js';
import { FileStore } from '../src/file-store/index.js';
import { GAUGE_MODES } from '../src/types.js';
import { flatten, tempDir } from './file-store-helpers.js';

export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));
}

export interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
}

/** Runs a compiled fixture to completion. */
export function runFixture(name: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture(name), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout }));
  });
}

/**
 * Runs short-lived worker `index` (see the fixture for the values it writes); with `compact`
 * false its store does not compact when it starts.
 */
export async function shortLived(
  dir: string,
  index: number,
  ending: 'exit' | 'kill',
  compact = true,
): Promise<void> {
  const args = [dir, String(index), ending, ...(compact ? [] : ['no-compact'])];
  const run = await runFixture('short-lived-worker', args);
  if (ending === 'exit') assert.equal(run.code, 0, `worker ${index} failed`);
  else assert.equal(run.signal, 'SIGKILL');
}

/**
 * Runs short-lived worker `index` in a scratch directory and copies the file it left into
 * `dir`: a dead process's file that no store start in `dir` has compacted yet.
 */
export async function addDeadFile(
  dir: string,
  index: number,
  ending: 'exit' | 'kill' = 'exit',
): Promise<string> {
  const scratch = tempDir('promfork-scratch-');
  try {
    await shortLived(scratch.dir, index, ending);
    const [name] = readdirSync(scratch.dir);
    copyFileSync(join(scratch.dir, name!), join(dir, name!));
    return name!;
  } finally {
    scratch.cleanup();
  }
}

/** Runs a compactor process; `crashAt` makes it SIGKILL itself at that step. */
export async function compactor(
  dir: string,
  crashAt = 'none',
): Promise<CompactionResult | 'crashed'> {
  const run = await runFixture('compactor', [dir, crashAt]);
  if (run.signal === 'SIGKILL') return 'crashed';
  assert.equal(run.code, 0, `compactor failed: ${run.stdout}`);
  return JSON.parse(run.stdout) as CompactionResult;
}

/** What a scrape must show once short-lived workers `indices` have all died. */
export function expectedAfter(indices: readonly number[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  if (indices.length === 0) return out;
  const sum = (f: (i: number) => number): number => indices.reduce((a, i) => a + f(i), 0);
  out['work_total{}'] = [sum((i) => i + 1)];
  out['work_seconds{}'] = [
    indices.filter((i) => i <= 10).length,
    indices.filter((i) => i > 10 && i <= 100).length,
    indices.filter((i) => i > 100).length,
    sum((i) => i),
    indices.length,
  ];
  const newest = Math.max(...indices);
  for (const mode of GAUGE_MODES) {
    // Dead processes: live modes show nothing, `all` nothing once compacted.
    if (mode.startsWith('live') || mode === 'all') continue;
    const value =
      mode === 'sum'
        ? sum((i) => i)
        : mode === 'min'
          ? Math.min(...indices)
          : mode === 'max'
            ? Math.max(...indices)
            : newest;
    out[`g_${mode}{}`] = [value, 1000 + newest];
  }
  return out;
}

/**
 * A scrape of `dir` by a store that does not compact (it sees the directory as it is), without
 * the `all` gauges: a dead file not compacted yet still shows its `all` series with its pid
 * (they go at compaction, which the callers check with a compacting store or the listing). The
 * store's own file is removed afterwards so that it does not show in listings.
 */
export function lookWithoutCompacting(dir: string): Record<string, number[]> {
  const store = new FileStore({ dir, compactDeadProcesses: false });
  try {
    return withoutAllGauges(flatten(store.collect()));
  } finally {
    store.close();
    unlinkSync(join(dir, store.fileName));
  }
}

/** Store files and leftovers in `dir`, excluding the names in `except`. */
export function listing(dir: string, except: readonly string[] = []): string[] {
  return readdirSync(dir)
    .filter((n) => !except.includes(n))
    .sort();
}

/** `flattened` without the series of the `all`-mode gauge of the short-lived workers. */
export function withoutAllGauges(flattened: Record<string, number[]>): Record<string, number[]> {
  const out = { ...flattened };
  for (const key of Object.keys(out)) if (key.startsWith('g_all{')) delete out[key];
  return out;
}
