import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  Counter,
  Gauge,
  Histogram,
  InvalidOptionError,
  LabelSetError,
  MemoryStore,
  PromforkError,
  Registry,
  validateLabelName,
  validateMetricName,
} from '../src/index.js';

const iso = () => ({ registers: [new Registry()], store: new MemoryStore() });

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

test('validateMetricName and validateLabelName match prom-client', () => {
  assert.equal(validateMetricName('http_requests_total'), true);
  assert.equal(validateMetricName('a:b'), true);
  assert.equal(validateMetricName('1abc'), false);
  assert.equal(validateMetricName('a-b'), false);
  assert.equal(validateMetricName(''), false);
  assert.equal(validateLabelName(['method', '_x']), true);
  assert.equal(validateLabelName(['a:b']), false);
  assert.equal(validateLabelName('ok'), true);
  assert.equal(validateLabelName(), true);
});

test('property: any invalid metric name throws PROMFORK_INVALID_METRIC_NAME naming it', () => {
  fc.assert(
    fc.property(
      fc.string().filter((s) => !METRIC_NAME.test(s)),
      (name) => {
        assert.throws(
          () => new Counter({ name, help: 'h', ...iso() }),
          (e: unknown) =>
            e instanceof LabelSetError &&
            e.code === 'PROMFORK_INVALID_METRIC_NAME' &&
            e.message.includes(
              JSON.stringify(name.length > 120 ? name.slice(0, 117) : name).slice(0, -1),
            ),
        );
        assert.equal(validateMetricName(name), false);
      },
    ),
  );
});

test('property: any invalid label name throws PROMFORK_INVALID_LABEL_NAME', () => {
  const invalid = fc.oneof(
    fc.string().filter((s) => !LABEL_NAME.test(s)),
    fc.string().map((s) => `__${s.replace(/[^a-zA-Z0-9_]/g, '')}`),
  );
  fc.assert(
    fc.property(invalid, (label) => {
      assert.throws(
        () => new Gauge({ name: 'g', help: 'h', labelNames: [label], ...iso() }),
        (e: unknown) => e instanceof LabelSetError && e.code === 'PROMFORK_INVALID_LABEL_NAME',
      );
    }),
  );
});

test('property: any label value that is not a string or finite number is rejected', () => {
  const counter = new Counter({ name: 'c_total', help: 'h', labelNames: ['a', 'b'], ...iso() });
  counter.inc({ a: 'x', b: 'y' });
  const bad = fc.oneof(
    fc.constantFrom(
      undefined,
      null,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ),
    fc.boolean(),
    fc.bigInt(),
    fc.object(),
    fc.array(fc.string()),
    fc.func(fc.string()),
  );
  fc.assert(
    fc.property(bad, fc.boolean(), (value, first) => {
      const labels = first ? { a: value, b: 'y' } : { a: 'x', b: value };
      assert.throws(
        () => counter.inc(labels as never),
        (e: unknown) => e instanceof PromforkError && e.code === 'PROMFORK_INVALID_LABEL_VALUE',
      );
      assert.throws(
        () => counter.labels(...((first ? [value, 'y'] : ['x', value]) as string[])),
        (e: unknown) => e instanceof PromforkError && e.code === 'PROMFORK_INVALID_LABEL_VALUE',
      );
    }),
  );
});

test('property: any string or finite number is a valid label value', async () => {
  const counter = new Counter({ name: 'ok_total', help: 'h', labelNames: ['a'], ...iso() });
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true })),
      async (value) => {
        counter.reset();
        counter.inc({ a: value });
        counter.labels(value).inc();
        const got = await counter.get();
        assert.deepEqual(
          got.values.map((v) => [v.labels.a, v.value]),
          [[String(value), 2]],
        );
      },
    ),
  );
});

test('reserved and duplicate label names, unknown and missing options', () => {
  assert.throws(() => new Counter({ name: 'x', help: 'h', labelNames: ['a', 'a'], ...iso() }), {
    code: 'PROMFORK_DUPLICATE_LABEL_NAME',
  });
  assert.throws(() => new Histogram({ name: 'x', help: 'h', labelNames: ['le'], ...iso() }), {
    code: 'PROMFORK_RESERVED_LABEL',
  });
  assert.throws(
    () => new Counter({ name: 'x', help: 'h', labelName: ['a'], ...iso() } as never),
    (e: unknown) =>
      e instanceof InvalidOptionError &&
      e.code === 'PROMFORK_UNKNOWN_OPTION' &&
      /"labelName"/.test(e.message),
  );
  assert.throws(() => new Counter({ name: 'x', ...iso() } as never), {
    code: 'PROMFORK_MISSING_OPTION',
  });
  assert.throws(() => new Counter({ help: 'h', ...iso() } as never), {
    code: 'PROMFORK_MISSING_OPTION',
  });
  assert.throws(() => new Counter({ name: 'x', help: 3, ...iso() } as never), {
    code: 'PROMFORK_INVALID_OPTION',
  });
  assert.throws(() => new Counter({ name: 'x', help: 'h', ...iso(), store: {} } as never), {
    code: 'PROMFORK_INVALID_OPTION',
  });
  assert.throws(() => new Counter(undefined as never), { code: 'PROMFORK_INVALID_OPTION' });
  assert.throws(() => new Counter({ name: 'x', help: 'h', aggregator: 'avg', ...iso() } as never), {
    code: 'PROMFORK_INVALID_OPTION',
  });
  // Options set to undefined count as absent (prom-client code passes registers: undefined).
  assert.doesNotThrow(() => new Counter({ name: 'x', help: '', labelNames: undefined, ...iso() }));
});
