/**
 * Two metric objects of one name on one FileStore (say, one per registry of two servers in a
 * process): the store keys its families by name, so they share their series. Whatever one of
 * them drops (`remove`, `reset`, its removal from its last registry), the other's children,
 * held or cached, keep counting into the series as it is now, as its own drops would; and one
 * leaving its registries does not take the other's series with it. On a MemoryStore the two
 * stay independent (registry.test.ts).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Counter, FileStore, Gauge, Histogram, Registry } from '../src/index.js';
import { tempDir } from './file-store-helpers.js';

/** The sample lines of `name` in `registry`'s scrape, sorted. */
async function lines(registry: Registry, name: string): Promise<string[]> {
  return (await registry.metrics())
    .split('\n')
    .filter((line) => line.startsWith(name))
    .sort();
}

describe('FileStore: metric objects of one name share their series', () => {
  let dir: string;
  let cleanup: () => void;
  let store: FileStore;
  let r1: Registry;
  let r2: Registry;

  beforeEach(() => {
    ({ dir, cleanup } = tempDir('promfork-peers-'));
    store = new FileStore({ dir });
    r1 = new Registry();
    r2 = new Registry();
  });
  afterEach(() => {
    store.close();
    cleanup();
  });

  function twins(): [Counter<'k'>, Counter<'k'>] {
    const options = { name: 'twin_total', help: 'h', labelNames: ['k'] as const, store };
    return [
      new Counter({ ...options, registers: [r1] }),
      new Counter({ ...options, registers: [r2] }),
    ];
  }

  it('counts of both objects add up in the one series', async () => {
    const [a, b] = twins();
    a.inc({ k: 'x' });
    b.inc({ k: 'x' }, 2);
    assert.deepEqual(await lines(r1, 'twin_total'), ['twin_total{k="x"} 3']);
    assert.deepEqual(await lines(r2, 'twin_total'), ['twin_total{k="x"} 3']);
  });

  it("after remove() on one, the other one's held and cached children count again", async () => {
    const [a, b] = twins();
    const held = b.labels('x');
    held.inc(5);
    a.remove('x');
    assert.deepEqual(await lines(r2, 'twin_total'), [], 'the series is gone for both');
    held.inc();
    b.inc({ k: 'x' }, 2);
    assert.deepEqual(await lines(r2, 'twin_total'), ['twin_total{k="x"} 3']);
    a.inc({ k: 'x' });
    assert.deepEqual(await lines(r1, 'twin_total'), ['twin_total{k="x"} 4']);
  });

  it("after reset() on one, the other one's children count from zero, initLabelSets included", async () => {
    const options = {
      name: 'twin_seconds',
      help: 'h',
      labelNames: ['k'] as const,
      buckets: [1],
      store,
      initLabelSets: [{ k: 'init' }],
    };
    const a = new Histogram({ ...options, registers: [r1] });
    const b = new Histogram({ ...options, registers: [r2] });
    const held = b.labels('x');
    held.observe(0.5);
    a.reset();
    held.observe(2);
    assert.deepEqual(
      (await lines(r2, 'twin_seconds_count')).sort(),
      ['twin_seconds_count{k="init"} 0', 'twin_seconds_count{k="x"} 1'],
      'the held child counted into a new series; the declared label set is back at zero',
    );
    assert.deepEqual(await lines(r2, 'twin_seconds_sum{k="x"}'), ['twin_seconds_sum{k="x"} 2']);
  });

  it("unlabelled: after reset() on one, the other one's updates are shown", async () => {
    const a = new Gauge({
      name: 'twin_gauge',
      help: 'h',
      registers: [r1],
      store,
      multiprocessMode: 'sum',
    });
    const b = new Gauge({
      name: 'twin_gauge',
      help: 'h',
      registers: [r2],
      store,
      multiprocessMode: 'sum',
    });
    b.set(4);
    a.reset();
    b.inc(3);
    assert.deepEqual(await lines(r2, 'twin_gauge'), ['twin_gauge 3']);
  });

  it('one removed from its registry leaves the other its series and counting', async () => {
    const [a, b] = twins();
    a.inc({ k: 'x' }, 2);
    const held = b.labels('x');
    held.inc();
    r1.removeSingleMetric('twin_total');
    assert.deepEqual(await lines(r2, 'twin_total'), ['twin_total{k="x"} 3']);
    held.inc();
    b.inc({ k: 'y' });
    assert.deepEqual(await lines(r2, 'twin_total'), ['twin_total{k="x"} 4', 'twin_total{k="y"} 1']);
    r2.clear();
    const c = new Counter({
      name: 'twin_total',
      help: 'h',
      labelNames: ['k'],
      registers: [r1],
      store,
    });
    assert.deepEqual(await lines(r1, 'twin_total'), [], 'the last one removed took the series');
    c.inc({ k: 'z' });
    assert.deepEqual(await lines(r1, 'twin_total'), ['twin_total{k="z"} 1']);
  });
  it('one of another definition leaving its registries takes its series with it', async () => {
    // Same name, other label names: the store holds one definition per name, the last one
    // declared; the two objects share no series.
    const b = new Counter({
      name: 'twin_total',
      help: 'h',
      labelNames: ['j'],
      registers: [r2],
      store,
    });
    b.inc({ j: '1' });
    const a = new Counter({
      name: 'twin_total',
      help: 'h',
      labelNames: ['k'],
      registers: [r1],
      store,
    });
    a.inc({ k: 'x' });
    assert.deepEqual(await lines(r1, 'twin_total'), ['twin_total{k="x"} 1']);
    r1.removeSingleMetric('twin_total');
    const shown = await lines(r2, 'twin_total');
    assert.ok(!shown.some((line) => line.includes('k="x"')), `removed series shown: ${shown}`);
  });
});
