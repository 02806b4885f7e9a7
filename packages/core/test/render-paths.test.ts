/**
 * The registry renders scrapes straight from collected families (render.ts) while `get()` and
 * `getMetricsAsJSON()` go through prom-client's MetricObject (snapshot.ts). These tests render
 * one rich fixture both ways, on both stores and in both formats, and require the same text.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type CollectedFamily,
  type CollectedSeries,
  Counter,
  FileStore,
  formatOpenMetrics,
  formatText,
  Histogram,
  MemoryStore,
  type MetricObject,
  Registry,
} from '../src/index.js';
import { tempDir } from './file-store-helpers.js';
import { fixture } from './helpers/render-fixture.js';
import { textBody } from './helpers.js';

const FORMATS = [
  { contentType: Registry.PROMETHEUS_CONTENT_TYPE, render: formatText, accept: 'text/plain' },
  {
    contentType: Registry.OPENMETRICS_CONTENT_TYPE,
    render: formatOpenMetrics,
    accept: 'application/openmetrics-text; version=1.0.0',
  },
] as const;

/** Drops the line of the scrape-duration gauge, which differs between any two scrapes. */
function stable(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^promfork_scrape_duration_seconds[ {]/.test(line))
    .join('\n');
}

async function assertPathsAgree(registry: Registry, label: string): Promise<string[]> {
  const texts: string[] = [];
  for (const format of FORMATS) {
    registry.setContentType(format.contentType);
    const objects: MetricObject[] = await registry.getMetricsAsJSON();
    const expected = stable(format.render(objects));
    assert.equal(
      stable(await registry.metrics()),
      expected,
      `${label}: metrics() ${format.accept}`,
    );
    const scraped = await registry.scrape(format.accept);
    assert.equal(scraped.contentType, format.contentType);
    assert.equal(stable(textBody(scraped)), expected, `${label}: scrape() ${format.accept}`);
    for (const object of objects.slice(0, 3)) {
      const single = await registry.getSingleMetricAsString(object.name);
      const one = objects.find((o) => o.name === object.name) as MetricObject;
      assert.equal(single, format.render([one]), `${label}: single ${object.name}`);
    }
    texts.push(expected);
  }
  return texts;
}

test('direct rendering equals MetricObject rendering: memory store, default labels', async () => {
  const registry = new Registry();
  const data = fixture(registry, new MemoryStore());
  registry.setDefaultLabels({ app: 'api "1"', method: 'shadowed', zone: 'eu\\west\n1' });
  for (let round = 0; round < 3; round++) {
    data.update(round);
    const [text, om] = await assertPathsAgree(registry, `memory round ${round}`);
    // The fixture really exercises what it claims to.
    assert.match(text as string, /path="a\\\\b"/);
    assert.match(text as string, /path="new\\nline"/);
    assert.match(text as string, /le="1000000"/);
    assert.match(om as string, /le="1e\+06"/);
    assert.match(om as string, / # \{trace_id="t0",span="ü"\} 0\.5 /);
    assert.match(om as string, /quantile="0\.99"/);
    assert.match(text as string, /zone="eu\\\\west\\n1"/);
  }
});

test('direct rendering equals MetricObject rendering: file store with pid labels', async () => {
  const { dir, cleanup } = tempDir('promfork-render-');
  const store = new FileStore({ dir });
  const other = new FileStore({ dir });
  try {
    const registry = new Registry({ includeForeignFamilies: true });
    const data = fixture(registry, store);
    // A family only another store declared arrives as a foreign family (no aggregator).
    const foreign = new Counter({
      name: 'foreign_total',
      help: 'declared elsewhere',
      labelNames: ['k'],
      registers: [],
      store: other,
    });
    foreign.inc({ k: 'v"' }, 3);
    other.flush();
    for (let round = 0; round < 2; round++) {
      data.update(round);
      registry.setDefaultLabels(round === 0 ? {} : { app: 'api' });
      const [text] = await assertPathsAgree(registry, `file round ${round}`);
      assert.match(
        text as string,
        new RegExp(`temperature\\{room="q\\\\"uote",pid="${process.pid}"`),
      );
      assert.match(text as string, /foreign_total\{k="v\\""/);
    }
  } finally {
    other.close();
    store.close();
    cleanup();
  }
});

test('default labels named le or quantile render as the generic path places them', async () => {
  const registry = new Registry();
  const data = fixture(registry, new MemoryStore());
  data.update(0);
  registry.setDefaultLabels({ le: 'default', quantile: 'q', app: 'x' });
  await assertPathsAgree(registry, 'le/quantile defaults');
});

test('cached labels follow removed and recreated series', async () => {
  const registry = new Registry();
  const store = new MemoryStore();
  const counter = new Counter({
    name: 'c_total',
    help: 'c',
    labelNames: ['a', 'b'],
    registers: [registry],
    store,
  });
  counter.inc({ a: 'x', b: 'y' });
  await assertPathsAgree(registry, 'before remove');
  counter.remove({ a: 'x', b: 'y' });
  counter.inc({ a: 'x', b: 'z"' }, 2);
  counter.inc({ a: 'x', b: 'y' }, 5);
  const [text] = await assertPathsAgree(registry, 'after remove');
  assert.equal(
    text,
    '# HELP c_total c\n# TYPE c_total counter\nc_total{a="x",b="z\\""} 2\nc_total{a="x",b="y"} 5\n',
  );
});

test('kept line prefixes follow series churn past the point where they are started over', async () => {
  const { dir, cleanup } = tempDir('promfork-render-churn-');
  const store = new FileStore({ dir });
  try {
    const registry = new Registry();
    const labelNames = ['k', 'v'];
    const counter = new Counter({
      name: 'c_total',
      help: 'c',
      labelNames,
      registers: [registry],
      store,
    });
    const histogram = new Histogram({
      name: 'h_seconds',
      help: 'h',
      labelNames,
      buckets: [1],
      registers: [registry],
      store,
    });
    // More series come and go than stay: the kept prefixes are started over (more than 1,024
    // entries, over twice the live ones), and series made before that must not take the
    // prefixes of series made after it.
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 700; i++) {
        const labels = { k: `r${round}-${i}`, v: i % 2 === 0 ? 'é"' : 'x' };
        counter.inc(labels, i + 1);
        histogram.observe(labels, 0.5);
        if (round > 0) {
          const old = { k: `r${round - 1}-${i}`, v: i % 2 === 0 ? 'é"' : 'x' };
          if (i % 7 !== 0) {
            counter.remove(old);
            histogram.remove(old);
          }
        }
      }
      registry.setDefaultLabels(round % 3 === 2 ? { zone: 'nörd' } : {});
      const [text] = await assertPathsAgree(registry, `churn round ${round}`);
      assert.match(text as string, new RegExp(`c_total\\{k="r${round}-0",v="é\\\\""`));
    }
  } finally {
    store.close();
    cleanup();
  }
});

test('two registries with other default labels render the same series alternately', async () => {
  const { dir, cleanup } = tempDir('promfork-render-two-');
  const store = new FileStore({ dir });
  try {
    const a = new Registry();
    const b = new Registry();
    a.setDefaultLabels({ app: 'ä' });
    b.setDefaultLabels({ app: 'b' });
    // Declared first and in b only: b makes the histogram's prefixes under other entry
    // numbers than a, so neither may take the other's.
    const onlyB = new Counter({
      name: 'b_total',
      help: 'b',
      labelNames: ['k'],
      registers: [b],
      store,
    });
    for (let i = 0; i < 7; i++) onlyB.inc({ k: `b${i}` });
    const histogram = new Histogram({
      name: 'h_seconds',
      help: 'h',
      labelNames: ['k'],
      buckets: [1, 2],
      registers: [a, b],
      store,
    });
    for (let i = 0; i < 50; i++) histogram.observe({ k: `s${i}` }, i % 3);
    for (let round = 0; round < 3; round++) {
      const [textA] = await assertPathsAgree(a, `registry a round ${round}`);
      const [textB] = await assertPathsAgree(b, `registry b round ${round}`);
      assert.match(textA as string, /h_seconds_sum\{k="s1",app="ä"\} 1/);
      assert.match(textB as string, /h_seconds_bucket\{k="s1",app="b",le="1"\} 1/);
      histogram.observe({ k: `new${round}` }, 1);
    }
  } finally {
    store.close();
    cleanup();
  }
});

/**
 * A MemoryStore that hands out the same series objects at every collect, with the
 * `renderCache` slot (as a FileStore's merged series carry), in forward and reverse order by
 * turns.
 */
class SlotStore extends MemoryStore {
  private reverse = true;
  private readonly kept = new WeakMap<readonly string[], CollectedSeries>();

  override collect(filter?: (name: string) => boolean): CollectedFamily[] {
    const families = super.collect(filter).map((family) => {
      const series = family.series.map((s) => {
        let kept = this.kept.get(s.labelValues);
        if (kept === undefined) {
          kept = { labelValues: s.labelValues, cells: s.cells, renderCache: undefined };
          this.kept.set(s.labelValues, kept);
        }
        Object.assign(kept, { cells: s.cells });
        return kept;
      });
      return { ...family, series: this.reverse ? series.reverse() : series };
    });
    this.reverse = !this.reverse;
    return families;
  }
}

test('kept prefixes of a started-over arena go to the series they were made for', async () => {
  const registry = new Registry();
  const store = new SlotStore();
  const options = { help: 'h', labelNames: ['k'], registers: [registry], store };
  const kept = new Counter({ name: 'kept_total', ...options });
  const churn = new Counter({ name: 'churn_total', ...options });
  for (let i = 0; i < 600; i++) kept.inc({ k: `s${i}` }, i + 1);
  // Series come and go until the arena starts over while the kept ones hold its first
  // entries; renders alternate the order of the series, so that after the start-over new
  // entries go to series whose old entry numbers are still on others.
  for (let round = 0; round < 8; round++) {
    if (round > 0) churn.reset();
    for (let i = 0; i < 600; i++) churn.inc({ k: `r${round}-${i}` });
    // A new series beside the kept ones: once the arena started over, its entry takes a
    // number a kept series still holds.
    kept.inc({ k: `n${round}` }, 1000 + round);
    // Two scrapes per round (the order alternates), each line checked against its labels.
    for (let scrape = 0; scrape < 2; scrape++) {
      const lines = (await registry.metrics())
        .split('\n')
        .filter((l) => /^(kept|churn)_total/.test(l));
      assert.equal(lines.length, 1201 + round, `round ${round}`);
      for (const line of lines) {
        const [, name, k, value] = /^(\w+)\{k="([^"]*)"\} (\d+)$/.exec(line) ?? [];
        const n = Number(value);
        const expected =
          name === 'churn_total'
            ? k?.startsWith(`r${round}-`) && k
            : n >= 1000
              ? `n${n - 1000}`
              : `s${n - 1}`;
        assert.equal(k, expected, `round ${round}: ${line}`);
      }
    }
  }
});

/**
 * Label values read from files, with plain series keys (no JSON escapes: written from the key
 * text itself, never split) and others (quotes, backslashes, control characters), ASCII or
 * not, empty, and values that look like the key's own `","` separator.
 */
const FILE_VALUES: readonly (readonly [string, string, string])[] = [
  ['a', 'b', 'c'],
  ['', '', ''],
  ['ü', 'plain', 'é'],
  ['日本', '😀', 'x ü y'],
  ['a,b', '[}{]', "it's"],
  ['q"uote', 'back\\slash', 'new\nline'],
  ['tab\there', 'cr\rhere', 'ü"'],
  ['a","b', '","', '\\"'],
  ['ü\\', 'nul\u0000', '"'],
];

test('label values read from files render as the generic path does, first scrape and later', async () => {
  const { dir, cleanup } = tempDir('promfork-render-keys-');
  const declare = (store: FileStore, registry: Registry) => {
    const labelNames = ['a', 'b', 'c'];
    const registers = [registry];
    return {
      counter: new Counter({ name: 'k_total', help: 'k', labelNames, registers, store }),
      bare: new Counter({ name: 'bare_total', help: 'b', registers, store }),
      one: new Counter({ name: 'one_total', help: 'o', labelNames: ['a'], registers, store }),
      histogram: new Histogram({
        name: 'k_seconds',
        help: 'h',
        labelNames,
        buckets: [0.1, 1],
        registers,
        store,
      }),
    };
  };
  const writers = [new FileStore({ dir }), new FileStore({ dir })];
  try {
    for (const [w, writer] of writers.entries()) {
      const metrics = declare(writer, new Registry());
      metrics.bare.inc(w + 1);
      for (const [i, [a, b, c]] of FILE_VALUES.entries()) {
        metrics.counter.inc({ a, b, c }, i + w);
        metrics.one.inc({ a: c }, i + 1);
        metrics.histogram.observe({ a, b, c }, i % 3 === 0 ? 0.05 : 2);
      }
      writer.flush();
    }
    for (const defaults of [{}, { zone: 'nörd' }] as Record<string, string>[]) {
      // A fresh store and registry: the first render meets every series for the first time.
      const store = new FileStore({ dir });
      try {
        const registry = new Registry();
        declare(store, registry);
        registry.setDefaultLabels(defaults);
        for (const format of FORMATS) {
          registry.setContentType(format.contentType);
          const first = stable(await registry.metrics());
          const expected = stable(format.render(await registry.getMetricsAsJSON()));
          assert.equal(first, expected, `first scrape ${format.accept}`);
        }
        const [text] = await assertPathsAgree(registry, 'later scrapes');
        assert.match(text as string, /k_total\{a="日本",b="😀",c="x ü y"/);
        assert.match(text as string, /k_seconds_bucket\{a="a\\",\\"b",b="\\",\\"",c="\\\\\\""/);
        assert.match(text as string, /k_total\{a="ü",b="plain",c="é"/);
        assert.match(text as string, /one_total\{a=""/);
        assert.match(text as string, /bare_total(\{zone="nörd"\})? 3\n/);
      } finally {
        store.close();
      }
    }
  } finally {
    for (const writer of writers) writer.close();
    cleanup();
  }
});
