/**
 * End to end across real processes through the public API: workers create metrics with
 * PROMETHEUS_MULTIPROC_DIR set, and a process that declared nothing serves `register.metrics()`
 * with everyone's numbers, summary quantiles merged from the workers' sketches.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempDir, Worker } from './file-store-helpers.js';
import { type ParsedFamily, parseExposition } from './helpers/parse-exposition.js';
import { checkWithPromtool } from './helpers/promtool.js';

function sampleValue(
  families: readonly ParsedFamily[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const family of families) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      const own = Object.entries(sample.labels).filter(([k]) => k !== 'pid');
      if (own.length === Object.keys(labels).length && own.every(([k, v]) => labels[k] === v)) {
        return sample.value;
      }
    }
  }
  return undefined;
}

describe('register.metrics() over a FileStore directory shared by forked workers', () => {
  let dir: string;
  let cleanup: () => void;
  let workers: Worker[] = [];
  let scraper: Worker;

  before(async () => {
    ({ dir, cleanup } = tempDir());
    workers = Array.from({ length: 4 }, () => new Worker(dir, 'api-worker'));
    scraper = new Worker(dir, 'api-worker');
    await Promise.all([...workers, scraper].map((w) => w.ready));
  });
  after(async () => {
    for (const w of [...workers, scraper]) {
      if (w.child.exitCode === null && w.child.signalCode === null) await w.kill();
    }
    cleanup();
  });

  it('serves every process numbers, quantiles within 1% of the combined data', async (t) => {
    // Each worker observes its own contiguous slice of a log-spread range, so a wrong merge
    // (e.g. adding or averaging per-process quantiles) lands far from the true quantiles.
    const all: number[] = [];
    for (const [k, w] of workers.entries()) {
      const values = Array.from({ length: 500 }, (_, i) => 0.001 * 1.005 ** (500 * k + i));
      all.push(...values);
      await w.run({ op: 'observe', values });
      await w.run({ op: 'inc', kind: 'a', by: k + 1 });
      await w.run({ op: 'gauge', value: k + 1 });
    }
    const text = await scraper.scrape();
    const families = parseExposition(text, 'prometheus');

    assert.equal(sampleValue(families, 'jobs_total', { kind: 'a' }), 1 + 2 + 3 + 4);
    assert.equal(sampleValue(families, 'queue_depth'), 1 + 2 + 3 + 4);
    assert.equal(sampleValue(families, 'job_seconds_count'), 2000);
    assert.equal(sampleValue(families, 'job_latency_seconds_count'), 2000);
    assert.equal(
      sampleValue(families, 'job_latency_seconds_bucket', { le: '0.1' }),
      all.filter((v) => v <= 0.1).length,
    );
    const sum = all.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sampleValue(families, 'job_seconds_sum')! - sum) < 1e-9 * sum);

    const sorted = [...all].sort((a, b) => a - b);
    for (const q of [0.01, 0.5, 0.9, 0.99]) {
      const exact = sorted[Math.floor(q * (sorted.length - 1))]!;
      const got = sampleValue(families, 'job_seconds', { quantile: String(q) });
      assert.ok(got !== undefined, `quantile ${q} missing`);
      assert.ok(Math.abs(got - exact) <= 0.01 * exact, `quantile ${q}: got ${got}, exact ${exact}`);
    }
    assert.equal(sampleValue(families, 'promfork_store_files'), 5);
    assert.equal(sampleValue(families, 'promfork_store_read_errors_total'), 0);
    checkWithPromtool(t, text, 'prometheus');
  });

  it('drops a killed worker from a live gauge but keeps its counts', async () => {
    await workers[3]!.kill();
    const families = parseExposition(await scraper.scrape(), 'prometheus');
    assert.equal(sampleValue(families, 'queue_depth'), 1 + 2 + 3);
    assert.equal(sampleValue(families, 'jobs_total', { kind: 'a' }), 1 + 2 + 3 + 4);
    assert.equal(sampleValue(families, 'job_seconds_count'), 2000);
  });
});
