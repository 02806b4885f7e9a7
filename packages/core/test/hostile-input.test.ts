/**
 * Hostile input through the public metric API (fast-check): metric names, label names, label
 * values (any Unicode, quotes, backslashes, newlines, lone surrogates, very long), help texts
 * and numbers (NaN, ±Infinity, -0, huge). Every call either throws a typed PromforkError, or
 * what it recorded comes back exactly from the exposition, after a trip through UTF-8 (what
 * Prometheus receives), on both stores: a MemoryStore scraped in-process, and a FileStore
 * whose file is read back by a second store in the same directory (the cross-process path:
 * descriptor JSON and series keys on disk). A batch of generated cases also passes
 * `promtool check metrics`.
 *
 * The number of cases run is printed (`fuzz cases:`) for docs/reliability.md; PROMFORK_FULL=1
 * runs ten times as many.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { formatText } from '../src/exposition/index.js';
import {
  Counter,
  ERROR_CODES,
  FileStore,
  familyToMetricObject,
  Gauge,
  Histogram,
  type LabelValue,
  type LabelValues,
  MemoryStore,
  PromforkError,
  Registry,
  type Store,
} from '../src/index.js';
import { tempDir } from './file-store-helpers.js';
import { AWKWARD_CHARS } from './helpers/awkward-chars.js';
import { type ParsedFamily, parseExposition } from './helpers/parse-exposition.js';
import { checkWithPromtool } from './helpers/promtool.js';

const FULL = process.env.PROMFORK_FULL === '1';
const RUNS = FULL ? 3000 : 300;
const PROMTOOL_CASES = FULL ? 2000 : 200;

/** Lone surrogates: not Unicode characters; must be refused, never mangled into U+FFFD. */
const LONE_SURROGATES = ['\uD800', '\uDC00', '\uDBFF'];

const anyText = fc.oneof(
  { weight: 15, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 15, arbitrary: fc.string({ unit: fc.constantFrom(...AWKWARD_CHARS), maxLength: 30 }) },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.constantFrom('a', '😀', ...LONE_SURROGATES),
      minLength: 1,
      maxLength: 6,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.string({
      unit: fc.constantFrom('x', '\\', '"', '\n'),
      minLength: 10_240,
      maxLength: 10_300,
    }),
  },
);

const validMetricName = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,20}$/);
const metricName = fc.oneof(
  { weight: 12, arbitrary: validMetricName },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '9x', 'a-b', 'a b', 'é', 'x\n', '__x', 'x{}') },
);

const labelName = fc.oneof(
  { weight: 20, arbitrary: fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,10}$/) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'constructor',
      'toString',
      'hasOwnProperty',
      '__proto__',
      '__name__',
      'le',
      'quantile',
      'pid',
      '',
      '0a',
      'a-b',
      'é',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);

/** Numbers as users pass them, including every special value. */
const anyNumber = fc.oneof(
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
    2 ** 53 + 1,
    1e308,
  ),
  fc.integer(),
);

/** Label values: any string or number, and things that are neither. */
const anyLabelValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: anyText },
  { weight: 2, arbitrary: anyNumber },
  {
    weight: 1,
    arbitrary: fc.constantFrom(undefined, null, true, {}, [], () => 1, Symbol('s'), 10n),
  },
);

type Kind = 'counter' | 'gauge' | 'histogram';

interface Case {
  readonly kind: Kind;
  readonly name: string;
  readonly help: string;
  readonly labelNames: string[];
  readonly buckets: number[] | undefined;
  /** Each update: label values by declared position (extra ones ignored), and a number. */
  readonly updates: { values: unknown[]; value: unknown; op: number }[];
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  kind: fc.constantFrom<Kind>('counter', 'gauge', 'histogram'),
  name: metricName,
  help: anyText,
  labelNames: fc.array(labelName, { maxLength: 3 }),
  buckets: fc.option(
    fc.oneof(
      // Mostly usable bounds (sorted, distinct), sometimes anything at all.
      {
        weight: 3,
        arbitrary: fc
          .uniqueArray(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 5 })
          .map((a) => a.sort((x, y) => x - y)),
      },
      { weight: 1, arbitrary: fc.array(anyNumber, { maxLength: 5 }) },
    ),
    { nil: undefined },
  ),
  updates: fc.array(
    fc.record({
      values: fc.array(anyLabelValue, { minLength: 3, maxLength: 3 }),
      value: fc.oneof({ weight: 5, arbitrary: anyNumber }, fc.constantFrom(undefined, '1', null)),
      op: fc.nat(2),
    }),
    { maxLength: 8 },
  ),
});

/** What a series should show: counter/gauge value, or histogram observations. */
interface Expected {
  labels: Record<string, string>;
  value: number;
  observations: number[];
}

function assertTyped(error: unknown, where: string): void {
  if (!(error instanceof PromforkError)) {
    assert.fail(`${where} threw a non-promfork error: ${String(error)}`);
  }
  assert.ok(error.code in ERROR_CODES, `${where}: unknown code ${error.code}`);
}

const labelString = (v: unknown): string => (typeof v === 'number' ? String(v) : String(v));

/**
 * Applies a case to a fresh metric on `store`. Returns the expected series (keyed by label
 * values), or undefined when the constructor rejected the case (with a typed error).
 * `maybeZero` collects label sets whose update was rejected after its labels were accepted:
 * such a series may exist at zero (its child was created before the value was refused).
 */
function apply(
  c: Case,
  store: Store,
  registry: Registry,
): { metric: Counter | Gauge | Histogram; expected: Map<string, Expected> } | undefined {
  let metric: Counter | Gauge | Histogram;
  const base = {
    name: c.name,
    help: c.help,
    labelNames: c.labelNames,
    registers: [registry],
    store,
  };
  try {
    if (c.kind === 'counter') metric = new Counter(base);
    else if (c.kind === 'gauge') metric = new Gauge({ ...base, multiprocessMode: 'sum' });
    else metric = new Histogram(c.buckets === undefined ? base : { ...base, buckets: c.buckets });
  } catch (error) {
    assertTyped(error, 'constructor');
    return undefined;
  }
  const expected = new Map<string, Expected>();
  const entry = (values: readonly string[]): Expected => {
    const key = JSON.stringify(values);
    let e = expected.get(key);
    if (e === undefined) {
      const labels: Record<string, string> = {};
      c.labelNames.forEach((n, i) => {
        labels[n] = values[i] as string;
      });
      e = { labels, value: 0, observations: [] };
      expected.set(key, e);
    }
    return e;
  };
  if (c.labelNames.length === 0) entry([]);
  for (const u of c.updates) {
    // Typed as valid labels on purpose: the values are anything a caller could pass at run time.
    const labelObject: LabelValues = {};
    c.labelNames.forEach((n, i) => {
      labelObject[n] = u.values[i] as LabelValue;
    });
    const values = c.labelNames.map((_, i) => labelString(u.values[i]));
    const value = u.value as number;
    const hasLabels = c.labelNames.length > 0;
    try {
      if (metric instanceof Counter) {
        if (hasLabels) metric.inc(labelObject, value);
        else metric.inc(value);
        entry(values).value += value ?? 1;
      } else if (metric instanceof Gauge) {
        if (u.op === 0) {
          if (hasLabels) metric.set(labelObject, value);
          else metric.set(value);
          entry(values).value = value;
        } else if (u.op === 1) {
          if (hasLabels) metric.inc(labelObject, value);
          else metric.inc(value);
          entry(values).value += value ?? 1;
        } else {
          if (hasLabels) metric.dec(labelObject, value);
          else metric.dec(value);
          entry(values).value -= value ?? 1;
        }
      } else {
        if (hasLabels) metric.observe(labelObject, value);
        else metric.observe(value);
        entry(values).observations.push(value);
      }
    } catch (error) {
      assertTyped(error, `update of ${c.kind}`);
    }
  }
  return { metric, expected };
}

/** A label-set key short enough for an assertion message. */
const short = (key: string): string => (key.length > 80 ? `${key.slice(0, 77)}...` : key);

/** A sample's labels without `le`, as a lookup key in declared order. */
function keyOf(labelNames: readonly string[], labels: Record<string, string>): string {
  return JSON.stringify(labelNames.map((n) => labels[n]));
}

/** Compares a parsed family with what was recorded, exactly. */
function assertFamily(
  c: Case,
  metric: Counter | Gauge | Histogram,
  family: ParsedFamily | undefined,
  expected: ReadonlyMap<string, Expected>,
): void {
  assert.ok(family, `family ${c.name} is missing`);
  assert.equal(family.type, c.kind);
  // Text format 0.0.4 cannot carry leading blanks of a help text (see exposition tests).
  assert.equal(family.help, c.help.replace(/^[ \t]+/, ''));
  const seen = new Map<
    string,
    { value?: number; count?: number; sum?: number; buckets: [number, number][] }
  >();
  for (const s of family.samples) {
    // `le` is the bucket bound on histograms only; elsewhere it is an ordinary label.
    const { le, ...withoutLe } = s.labels;
    const rest = c.kind === 'histogram' ? withoutLe : s.labels;
    assert.deepEqual(Object.keys(rest).sort(), [...c.labelNames].sort(), 'sample label names');
    const key = keyOf(c.labelNames, rest);
    let got = seen.get(key);
    if (got === undefined) {
      got = { buckets: [] };
      seen.set(key, got);
    }
    if (s.name === c.name) got.value = s.value;
    else if (s.name === `${c.name}_count`) got.count = s.value;
    else if (s.name === `${c.name}_sum`) got.sum = s.value;
    else if (s.name === `${c.name}_bucket` && le !== undefined) {
      got.buckets.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), s.value]);
    } else assert.fail(`unexpected sample ${s.name}`);
  }
  for (const [key, e] of expected) {
    const got = seen.get(key);
    if (got === undefined) assert.fail(`series ${short(key)} was recorded but is missing`);
    seen.delete(key);
    if (metric instanceof Histogram) {
      assert.equal(got.count, e.observations.length, `${short(key)} count`);
      const sum = e.observations.reduce((a, b) => a + b, 0);
      assert.ok(
        Object.is(got.sum, sum) || got.sum === sum,
        `${short(key)} sum ${got.sum} != ${sum}`,
      );
      const bounds = [...metric.buckets, Number.POSITIVE_INFINITY];
      // Compared with ===, not Object.is: `le` of a bucket at -0 may render as 0 or -0.
      assert.equal(got.buckets.length, bounds.length, `${short(key)} bucket count`);
      bounds.forEach((bound, i) => {
        const [le, count] = got.buckets[i] ?? [Number.NaN, Number.NaN];
        assert.ok(le === bound, `${short(key)} bucket ${i}: le=${le}, declared ${bound}`);
        const below = e.observations.filter((o) => o <= bound).length;
        assert.equal(count, below, `${short(key)} bucket le=${bound}`);
      });
    } else {
      assert.ok(
        Object.is(got.value, e.value) || (got.value === 0 && e.value === 0),
        `${short(key)}: exposition says ${got.value}, recorded ${e.value}`,
      );
    }
  }
  // Anything left was never recorded: allowed only at zero (a child created for an update
  // whose value was then refused).
  for (const [key, got] of seen) {
    const zero = (got.value ?? 0) === 0 && (got.count ?? 0) === 0;
    assert.ok(zero, `series ${short(key)} was never recorded but shows values`);
  }
}

/** The UTF-8 round trip an HTTP response takes. */
const overTheWire = (text: string): string => Buffer.from(text, 'utf8').toString('utf8');

let casesRun = 0;
let rejected = 0;
after(() => {
  console.log(
    `fuzz cases: ${casesRun} (${rejected} rejected with typed errors) through both stores, ` +
      `${PROMTOOL_CASES} checked by promtool`,
  );
});

describe('hostile input through the metric API (fast-check)', () => {
  test('MemoryStore: every call throws a typed error or round-trips exactly', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        casesRun++;
        const registry = new Registry();
        const result = apply(c, new MemoryStore(), registry);
        if (result === undefined) {
          rejected++;
          return;
        }
        const text = overTheWire(await registry.metrics());
        const family = parseExposition(text, 'prometheus').find((f) => f.name === c.name);
        assertFamily(c, result.metric, family, result.expected);
      }),
      { numRuns: RUNS },
    );
  });

  test('FileStore: values read back from the file by another store round-trip exactly', () => {
    const { dir, cleanup } = tempDir('promfork-hostile-');
    try {
      fc.assert(
        fc.property(caseArb, (c) => {
          casesRun++;
          const writer = new FileStore({ dir, onError: () => {} });
          const reader = new FileStore({ dir, onError: () => {} });
          try {
            const result = apply(c, writer, new Registry());
            if (result === undefined) {
              rejected++;
              return;
            }
            writer.flush();
            const family = reader.collect().find((f) => f.descriptor.name === c.name);
            const rendered = family
              ? formatText([familyToMetricObject(family, { nowMs: Date.now() })])
              : '';
            const parsed = parseExposition(overTheWire(rendered), 'prometheus');
            assertFamily(c, result.metric, parsed[0], result.expected);
          } finally {
            writer.close();
            reader.close();
            for (const name of [writer.fileName, reader.fileName]) {
              // Each case starts from an empty directory.
              rmSync(join(dir, name), { force: true });
            }
          }
        }),
        { numRuns: Math.ceil(RUNS / 2) },
      );
    } finally {
      cleanup();
    }
  });

  test('a batch of generated cases passes promtool check metrics', async (t) => {
    const cases = fc.sample(caseArb, { numRuns: PROMTOOL_CASES, seed: 20240611 });
    const registry = new Registry();
    let accepted = 0;
    cases.forEach((c, i) => {
      // Unique, lint-clean names so all cases fit in one exposition and one promtool run.
      const name = `fuzz_${i}_${c.kind === 'counter' ? 'total' : 'value'}`;
      if (apply({ ...c, name }, new MemoryStore(), registry) !== undefined) accepted++;
    });
    assert.ok(accepted > PROMTOOL_CASES / 4, `only ${accepted} cases were accepted`);
    const text = overTheWire(await registry.metrics());
    parseExposition(text, 'prometheus');
    // Lint findings about naming style are advice, not errors; the names are generated.
    checkWithPromtool(t, text, 'prometheus', {
      allowLint: [
        'no help text',
        'snake_case',
        'should not have "quantile" label',
        'should not have "le" label',
      ],
    });
  });
});
