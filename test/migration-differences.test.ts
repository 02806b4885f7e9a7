/**
 * docs/migrating-from-prom-client.md lists every behavioural difference from prom-client 15 as
 * a snippet with both outcomes, and a table of snippets that behave the same. This test reads
 * those tables, runs every snippet against prom-client 15 (a devDependency) and against
 * promfork, and checks that each documented difference is real (both outcomes as expected
 * below) and each "same" row really is the same. A row in the guide without an expectation
 * here, or an expectation whose row was removed, fails the test.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import promfork from '@promfork/core';
import promClient from 'prom-client';

const GUIDE = fileURLToPath(new URL('../../docs/migrating-from-prom-client.md', import.meta.url));

/** The part of either library the snippets and this test use. */
interface Library {
  readonly register: {
    clear(): void;
    setDefaultLabels(labels: object): void;
    setContentType(type: string): void;
    metrics(): Promise<string>;
  };
  readonly prometheusContentType: string;
  readonly Counter: new (options: object) => unknown;
  readonly Gauge: new (options: object) => unknown;
  readonly Histogram: new (options: object) => unknown;
  readonly Summary: new (options: object) => unknown;
}

const LIBRARIES = {
  'prom-client': promClient as unknown as Library,
  promfork: promfork as unknown as Library,
};

/** What a snippet did: threw, or the value of its last statement (awaited) and the exposition. */
type Observation =
  | { readonly error: Error & { code?: string } }
  | { readonly value: unknown; readonly text: string | Error };

/**
 * Runs a snippet with the names the guide states in scope, and returns the completion value of
 * its last statement. Direct `eval` in a sloppy-mode function gives statement-list semantics
 * (`a(); b()` yields `b()`), which is how the snippets read; `with` supplies the names.
 */
const evaluate = new Function('scope', 'code', 'with (scope) { return eval(code); }') as (
  scope: object,
  code: string,
) => unknown;

async function observe(library: Library, snippet: string): Promise<Observation> {
  const { register } = library;
  register.clear();
  register.setDefaultLabels({});
  register.setContentType(library.prometheusContentType);
  // The metrics the guide says the register holds before each snippet.
  const scope = {
    ...library,
    client: library,
    c: new library.Counter({ name: 'c_total', help: 'c', labelNames: ['method', 'route'] }),
    n: new library.Counter({ name: 'n_total', help: 'n' }),
    g: new library.Gauge({ name: 'g', help: 'g' }),
    h: new library.Histogram({ name: 'h', help: 'h', labelNames: ['route'], buckets: [1] }),
    s: new library.Summary({ name: 's', help: 's', percentiles: [0.5] }),
  };
  let value: unknown;
  try {
    value = await evaluate(scope, snippet);
  } catch (error) {
    return { error: error as Error };
  }
  let text: string | Error;
  try {
    text = await register.metrics();
  } catch (error) {
    text = error as Error;
  }
  return { value, text };
}

/** An expected outcome. */
type Expect =
  /** Throws an error with this `code` (promfork) or a message matching this (prom-client). */
  | { readonly throws: string | RegExp }
  /** Does not throw; the exposition has each of these lines and none of `hides`' lines. */
  | { readonly shows: readonly string[]; readonly hides?: readonly string[] }
  /** Does not throw; the snippet's value passes this check. */
  | { readonly returns: (value: unknown) => void | Promise<void> }
  /** Does not throw, but the next `register.metrics()` does. */
  | { readonly metricsThrows: RegExp };

async function check(
  name: string,
  snippet: string,
  seen: Observation,
  expected: Expect,
): Promise<void> {
  const where = `${name}: ${snippet}`;
  if ('throws' in expected) {
    assert.ok('error' in seen, `${where}: expected an error, got ${JSON.stringify(seen)}`);
    if (typeof expected.throws === 'string') {
      assert.equal(seen.error.code, expected.throws, `${where}: ${seen.error.message}`);
    } else {
      assert.match(seen.error.message, expected.throws, where);
    }
    return;
  }
  assert.ok(!('error' in seen), `${where}: threw ${'error' in seen ? seen.error.stack : ''}`);
  if ('metricsThrows' in expected) {
    assert.ok(seen.text instanceof Error, `${where}: metrics() did not throw`);
    assert.match(seen.text.message, expected.metricsThrows, where);
    return;
  }
  if ('returns' in expected) {
    await expected.returns(seen.value);
    return;
  }
  assert.ok(typeof seen.text === 'string', `${where}: metrics() threw ${String(seen.text)}`);
  const lines = seen.text.split('\n');
  for (const line of expected.shows) {
    assert.ok(lines.includes(line), `${where}: no line ${line} in\n${seen.text}`);
  }
  for (const prefix of expected.hides ?? []) {
    assert.ok(!lines.some((l) => l.startsWith(prefix)), `${where}: ${prefix}… in\n${seen.text}`);
  }
}

/** `get()`'s first value with this metricName (or the first one, for undefined). */
function sample(metric: unknown, metricName?: string): Record<string, unknown> {
  const values = (metric as { values: Record<string, unknown>[] }).values;
  const found = values.find((v) => metricName === undefined || v.metricName === metricName);
  assert.ok(found, `no ${metricName} in ${JSON.stringify(values)}`);
  return found;
}

const returns = (check: (value: unknown) => void | Promise<void>): Expect => ({ returns: check });
const is = (expected: unknown): Expect => returns((value) => assert.deepEqual(value, expected));
const noPartial = { throws: 'PROMFORK_LABEL_SET_MISMATCH' } as const;
const badValue = { throws: 'PROMFORK_INVALID_LABEL_VALUE' } as const;
const invalid = { throws: 'PROMFORK_INVALID_VALUE' } as const;
const badBuckets = { throws: 'PROMFORK_INVALID_BUCKETS' } as const;
const accepted = (...lines: string[]): Expect => ({ shows: lines });

/** Each documented difference: the snippet as the guide shows it, and both outcomes. */
const DIFFERENCES: Readonly<Record<string, { promClient: Expect; promfork: Expect }>> = {
  "c.inc({ method: 'GET' })": {
    promClient: accepted('c_total{method="GET"} 1'),
    promfork: noPartial,
  },
  "c.labels({ method: 'GET' }).inc()": {
    promClient: accepted('c_total{method="GET"} 1'),
    promfork: noPartial,
  },
  'c.inc()': { promClient: accepted('c_total 1'), promfork: noPartial },
  "c.inc({ method: 'GET', route: '/' }); c.remove({ method: 'GET' })": {
    promClient: accepted('c_total{method="GET",route="/"} 1'),
    promfork: noPartial,
  },
  "c.inc({ method: undefined, route: '/' })": {
    promClient: accepted('c_total{method="undefined",route="/"} 1'),
    promfork: badValue,
  },
  "c.inc({ method: null, route: '/' })": {
    promClient: accepted('c_total{method="null",route="/"} 1'),
    promfork: badValue,
  },
  "c.inc({ method: true, route: '/' })": {
    promClient: accepted('c_total{method="true",route="/"} 1'),
    promfork: badValue,
  },
  "c.inc({ method: NaN, route: '/' })": {
    promClient: accepted('c_total{method="NaN",route="/"} 1'),
    promfork: badValue,
  },
  "c.inc({ method: '\\uD800', route: '/' })": {
    promClient: accepted('c_total{method="\uD800",route="/"} 1'),
    promfork: badValue,
  },
  "c.inc({ method: 200, route: '/' }); c.get()": {
    promClient: returns((m) => assert.deepEqual(sample(m).labels, { method: 200, route: '/' })),
    promfork: returns((m) => assert.deepEqual(sample(m).labels, { method: '200', route: '/' })),
  },
  "new Counter({ name: 'x', help: 'x', labelNames: ['a', 'a'] })": {
    promClient: accepted('# TYPE x counter'),
    promfork: { throws: 'PROMFORK_DUPLICATE_LABEL_NAME' },
  },
  "new Counter({ name: 'x', help: 'x', labelNames: ['__a'] })": {
    promClient: accepted('# TYPE x counter'),
    promfork: { throws: 'PROMFORK_INVALID_LABEL_NAME' },
  },
  "new Gauge({ name: 'x', help: 'x', labelNames: ['pid'] })": {
    promClient: accepted('# TYPE x gauge'),
    promfork: { throws: 'PROMFORK_RESERVED_LABEL' },
  },
  'n.inc(NaN)': { promClient: accepted('n_total Nan'), promfork: invalid },
  'g.set(NaN)': { promClient: accepted('g Nan'), promfork: invalid },
  'g.set(Infinity)': { promClient: accepted('g +Inf'), promfork: invalid },
  "new Histogram({ name: 'x', help: 'x', buckets: [2, 1] })": {
    promClient: accepted('x_bucket{le="2"} 0', 'x_bucket{le="1"} 0'),
    promfork: badBuckets,
  },
  "new Histogram({ name: 'x', help: 'x', buckets: [] })": {
    promClient: { shows: ['x_bucket{le="+Inf"} 0'], hides: ['x_bucket{le="1'] },
    promfork: badBuckets,
  },
  "new Histogram({ name: 'x', help: 'x', buckets: [1, Infinity] })": {
    promClient: accepted('x_bucket{le="Infinity"} 0', 'x_bucket{le="+Inf"} 0'),
    promfork: badBuckets,
  },
  'linearBuckets(0, 0, 3)': { promClient: is([0, 0, 0]), promfork: badBuckets },
  "new Summary({ name: 'x', help: 'x', percentiles: [1.5] })": {
    promClient: accepted('x{quantile="1.5"} 0'),
    promfork: { throws: 'PROMFORK_INVALID_PERCENTILES' },
  },
  "new Summary({ name: 'x', help: 'x', ageBuckets: 0 })": {
    promClient: { metricsThrows: /./ },
    promfork: { throws: 'PROMFORK_INVALID_OPTION' },
  },
  "new Summary({ name: 'x', help: 'x', maxAgeSeconds: 0.001, ageBuckets: 5 })": {
    promClient: accepted('x_count 0'),
    promfork: { throws: 'PROMFORK_INVALID_OPTION' },
  },
  "new Summary({ name: 'x', help: 'x', ageBuckets: 2000 })": {
    promClient: accepted('x_count 0'),
    promfork: { throws: 'PROMFORK_INVALID_OPTION' },
  },
  "new Histogram({ name: 'x', help: 'x', buckets: [1, 1] })": {
    promClient: returns(async () => {
      const text = await promClient.register.metrics();
      assert.equal(text.match(/^x_bucket\{le="1"\} 0$/gm)?.length, 2, text);
    }),
    promfork: badBuckets,
  },
  "new Counter({ name: 'x', help: 'x', labelName: ['a'] })": {
    promClient: accepted('x 0'),
    promfork: { throws: 'PROMFORK_UNKNOWN_OPTION' },
  },
  "new Counter({ name: 'x', help: 'x', aggregator: 'avg' })": {
    promClient: accepted('x 0'),
    promfork: { throws: 'PROMFORK_INVALID_OPTION' },
  },
  "new Counter({ name: 'x', help: '' })": {
    promClient: { throws: /Missing mandatory help parameter/ },
    promfork: accepted('x 0'),
  },
  "new Counter({ name: 'n_total', help: 'n' })": {
    promClient: { throws: /already been registered/ },
    promfork: { throws: 'PROMFORK_ALREADY_REGISTERED' },
  },
  "new Counter({ name: 'x', help: 'x', enableExemplars: true })": {
    promClient: { throws: /only on OpenMetrics registries/ },
    promfork: accepted('x 0'),
  },
  'n.inc({ value: 2, labels: {} })': {
    promClient: { throws: /"value" is not included/ },
    promfork: accepted('n_total 2'),
  },
  "h.observe({ route: '/' }, 0.5); h.get()": {
    promClient: returns((m) => {
      const bucket = sample(m, 'h_bucket');
      assert.deepEqual(Object.keys(bucket.labels as object), ['le', 'route']);
      assert.equal(bucket.exemplar, null);
    }),
    promfork: returns((m) => {
      const bucket = sample(m, 'h_bucket');
      assert.deepEqual(Object.keys(bucket.labels as object), ['route', 'le']);
      assert.ok(!('exemplar' in bucket));
    }),
  },
  's.get()': {
    promClient: returns((m) => assert.equal(sample(m).value, 0)),
    promfork: returns((m) => assert.ok(Number.isNaN(sample(m).value))),
  },
  's.observe(0.5); s.get()': {
    promClient: returns((m) => assert.equal(sample(m).value, 0.5)),
    promfork: returns((m) => {
      const quantile = sample(m).value as number;
      assert.notEqual(quantile, 0.5);
      assert.ok(Math.abs(quantile - 0.5) <= 0.005, `${quantile} is not within 1% of 0.5`);
    }),
  },
  "register.setContentType(client.openMetricsContentType); h.observe({ route: '/' }, 0.5); register.metrics()":
    {
      promClient: returns((text) => {
        assert.match(String(text), /^# HELP h h\n# TYPE h histogram\n/m);
        assert.match(String(text), /^h_bucket\{le="1",route="\/"\} 1$/m);
      }),
      promfork: returns((text) => {
        assert.match(String(text), /^# TYPE h histogram\n# HELP h h\n/m);
        assert.match(String(text), /^h_bucket\{route="\/",le="1.0"\} 1$/m);
      }),
    },
  'n.inc(); register.metrics()': {
    promClient: returns((text) => assert.match(String(text), /^n_total 1\n\n# HELP g g$/m)),
    promfork: returns((text) => {
      assert.match(String(text), /^n_total 1\n# HELP g g$/m);
      assert.doesNotMatch(String(text), /\n\n/);
    }),
  },
  "const x = new Counter({ name: 'x', help: 'x', enableExemplars: true, registers: [new Registry(client.openMetricsContentType)] }); x.inc({ value: 1, labels: {}, exemplarLabels: { trace: 'a' } }); x.get()":
    {
      promClient: returns((m) =>
        assert.deepEqual((sample(m).exemplar as { labelSet: unknown }).labelSet, { trace: 'a' }),
      ),
      promfork: returns((m) =>
        assert.deepEqual((sample(m).exemplar as { labels: unknown }).labels, { trace: 'a' }),
      ),
    },
  'new Registry().metrics()': { promClient: is('\n'), promfork: is('') },
  "n.inc(); register.getSingleMetricAsString('n_total')": {
    promClient: is('# HELP n_total n\n# TYPE n_total counter\nn_total 1'),
    promfork: is('# HELP n_total n\n# TYPE n_total counter\nn_total 1\n'),
  },
  "register.getSingleMetricAsString('nope')": {
    promClient: { throws: /Cannot read properties of undefined/ },
    promfork: is(''),
  },
  "h.observe({ route: '/' }, 0.5); h.zero({ route: '/' })": {
    promClient: accepted('h_count{route="/"} 0'),
    promfork: accepted('h_count{route="/"} 1'),
  },
  "const x = new Histogram({ name: 'x', help: 'x', buckets: [1] }); x.observe(0.5); x.reset()": {
    promClient: { shows: ['# TYPE x histogram'], hides: ['x_count'] },
    promfork: accepted('x_count 0', 'x_bucket{le="1"} 0'),
  },
  'n.inc(); n.remove()': {
    promClient: { shows: ['# TYPE n_total counter'], hides: ['n_total '] },
    promfork: accepted('n_total 0'),
  },
  "const x = c.labels('GET', '/'); x.inc(); register.clear(); register.registerMetric(c); x.inc()":
    {
      promClient: accepted('c_total{method="GET",route="/"} 2'),
      promfork: accepted('c_total{method="GET",route="/"} 1'),
    },
  "register.removeSingleMetric('n_total'); n.inc(); n.get()": {
    promClient: returns((m) => assert.equal(sample(m).value, 1)),
    promfork: returns((m) => assert.deepEqual((m as { values: unknown[] }).values, [])),
  },
};

/** The guide's snippet rows, by section: `## Every difference…` and `## Checked to behave…`. */
function guideRows(): { differences: string[]; same: string[] } {
  const differences: string[] = [];
  const same: string[] = [];
  let section: string[] | undefined;
  for (const line of readFileSync(GUIDE, 'utf8').split('\n')) {
    if (line.startsWith('## ')) {
      section = line.startsWith('## Every difference')
        ? differences
        : line.startsWith('## Checked to behave the same')
          ? same
          : undefined;
    }
    const row = /^\|\s*`(.+?)`\s*\|/.exec(line);
    if (row && section) section.push(row[1]!);
  }
  return { differences, same };
}

describe('docs/migrating-from-prom-client.md against prom-client 15 and promfork', () => {
  const { differences, same } = guideRows();

  it('has an expected outcome for every difference the guide lists, and no other', () => {
    assert.ok(differences.length >= 30, `only ${differences.length} rows found`);
    assert.deepEqual([...differences].sort(), Object.keys(DIFFERENCES).sort());
  });

  for (const snippet of differences) {
    it(`differs as documented: ${snippet}`, async () => {
      const expected = DIFFERENCES[snippet];
      assert.ok(expected, 'no expected outcome for this row');
      await check(
        'prom-client',
        snippet,
        await observe(LIBRARIES['prom-client'], snippet),
        expected.promClient,
      );
      await check(
        'promfork',
        snippet,
        await observe(LIBRARIES.promfork, snippet),
        expected.promfork,
      );
    });
  }

  it('lists the behaviour checked to be the same', () => {
    assert.ok(same.length >= 15, `only ${same.length} rows found`);
  });

  for (const snippet of same) {
    it(`behaves the same: ${snippet}`, async () => {
      const theirs = await observe(LIBRARIES['prom-client'], snippet);
      const ours = await observe(LIBRARIES.promfork, snippet);
      assert.equal(
        'error' in ours,
        'error' in theirs,
        `${snippet}: one threw, the other did not:
prom-client: ${'error' in theirs ? theirs.error.message : 'no error'}
promfork: ${'error' in ours ? ours.error.message : 'no error'}`,
      );
      if ('value' in ours && 'value' in theirs) assert.deepEqual(ours.value, theirs.value, snippet);
    });
  }
});
