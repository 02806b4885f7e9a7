/**
 * The kept line prefixes of the direct renderer (series-prefixes.ts, render.ts) against the
 * generic MetricObject path, under a seeded random mix of what moves them: series made,
 * removed and reset, default labels changed, two registries (two renderers) rendering the
 * same FileStore series, a third on a MemoryStore, both formats, single-metric renders
 * between full ones, label values with escapes, non-ASCII text and lengths that are not
 * multiples of four, and one value long enough to grow the output buffer within a
 * histogram's bucket lines.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Counter,
  FileStore,
  formatOpenMetrics,
  formatText,
  Gauge,
  Histogram,
  MemoryStore,
  type MetricObject,
  Registry,
  type Store,
  Summary,
} from '../src/index.js';
import { tempDir } from './file-store-helpers.js';

const FORMATS = [
  { contentType: Registry.PROMETHEUS_CONTENT_TYPE, render: formatText },
  { contentType: Registry.OPENMETRICS_CONTENT_TYPE, render: formatOpenMetrics },
] as const;

/** Label values: escapes, non-ASCII (the only non-ASCII bytes of some renders), odd lengths. */
const VALUES = ['', 'a', 'ab', 'abc', 'abcde', 'x"y', 'b\\s', 'l\nf', 'é', 'ü"', '😀', 'nörd7'];
/** Long enough that a histogram of it outgrows a buffer sized after a small render. */
const LONG = 'L'.repeat(30001);
const DEFAULTS: Record<string, string>[] = [
  {},
  { zone: 'z1' },
  { zone: 'nörd' },
  { app: 'q"\\' },
  // A declared label's name (the declared value wins), and the names histograms and summaries add.
  { k: 'd', zone: 'ü' },
  { le: '0' },
  { quantile: 'q' },
];

/** A small seeded generator (mulberry32): the same sequence at every run. */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** The metrics of one store, registered in `registers`. */
function metricsOf(store: Store, registers: Registry[], prefix: string) {
  const common = { labelNames: ['k', 'v'], registers, store };
  return [
    new Counter({ name: `${prefix}plain`, help: 'no _total suffix', ...common }),
    new Counter({ name: `${prefix}c_total`, help: 'c', ...common }),
    new Gauge({ name: `${prefix}g`, help: 'g', ...common }),
    new Histogram({ name: `${prefix}h`, help: 'h', buckets: [1, 2, 5], ...common }),
    new Summary({ name: `${prefix}s`, help: 's', percentiles: [0.5, 0.9], ...common }),
    new Summary({ name: `${prefix}s0`, help: 's0', percentiles: [], ...common }),
  ];
}

async function assertAgrees(registry: Registry, single: string | undefined, label: string) {
  for (const format of FORMATS) {
    registry.setContentType(format.contentType);
    const objects: MetricObject[] = await registry.getMetricsAsJSON();
    if (single !== undefined) {
      const one = objects.find((o) => o.name === single);
      if (one === undefined) continue;
      assert.equal(
        await registry.getSingleMetricAsString(single),
        format.render([one]),
        `${label}: single ${single} ${format.contentType}`,
      );
    } else {
      assert.equal(
        await registry.metrics(),
        format.render(objects),
        `${label}: ${format.contentType}`,
      );
    }
  }
}

test('kept prefixes agree with the generic path under random churn of series, labels and renderers', async () => {
  const { dir, cleanup } = tempDir('promfork-render-prefix-churn-');
  const fileStore = new FileStore({ dir });
  try {
    const a = new Registry();
    const b = new Registry();
    const c = new Registry();
    // Only in b, declared first: b's entry numbers differ from a's for the shared series.
    const onlyB = new Counter({
      name: 'only_b_total',
      help: 'b',
      labelNames: ['k'],
      registers: [b],
      store: fileStore,
    });
    const shared = metricsOf(fileStore, [a, b], 'f_');
    const own = metricsOf(new MemoryStore(), [c], 'm_');
    const registries = [a, b, c];
    const next = random(14);
    const labelsOf = () => ({
      k: next(40) === 0 ? LONG : `s${next(900)}`,
      v: VALUES[next(VALUES.length)] as string,
    });
    const update = (metric: (typeof shared)[number], labels: { k: string; v: string }) => {
      if (metric instanceof Counter) metric.inc(labels, 1 + next(5));
      else if (metric instanceof Gauge) metric.set(labels, next(100) - 50);
      else metric.observe(labels, next(7) / 2);
    };
    for (let step = 0; step < 700; step++) {
      const metrics = next(3) === 0 ? own : shared;
      const metric = metrics[next(metrics.length)] as (typeof shared)[number];
      const roll = next(100);
      if (roll < 45) {
        for (let i = 0; i < 8; i++) update(metric, labelsOf());
        onlyB.inc({ k: `b${next(300)}` });
      } else if (roll < 70) {
        // Removed series leave stale entries behind: enough of them start the arena over.
        for (let i = 0; i < 8; i++) metric.remove(labelsOf());
      } else if (roll < 72) {
        metric.reset();
      } else if (roll < 76) {
        (registries[next(3)] as Registry).setDefaultLabels(
          DEFAULTS[next(DEFAULTS.length)] as Record<string, string>,
        );
      } else if (roll < 88) {
        await assertAgrees(registries[next(3)] as Registry, undefined, `step ${step}`);
      } else {
        const registry = registries[next(3)] as Registry;
        const name = `${registry === c ? 'm_' : 'f_'}${['plain', 'c_total', 'g', 'h', 's', 's0'][next(6)]}`;
        await assertAgrees(registry, name, `step ${step}`);
      }
    }
  } finally {
    fileStore.close();
    cleanup();
  }
});
