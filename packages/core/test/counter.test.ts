import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, InvalidValueError, LabelSetError, PromforkError } from '../src/index.js';
import { isolated, samples } from './helpers.js';

test('an unlabelled counter starts at 0 and adds increments', async () => {
  const { iso } = isolated();
  const c = new Counter({ name: 'jobs_total', help: 'Jobs done', ...iso });
  assert.deepEqual(samples(await c.get()), [['jobs_total', {}, 0]]);
  c.inc();
  c.inc(2.5);
  c.inc(0);
  const got = await c.get();
  assert.equal(got.help, 'Jobs done');
  assert.equal(got.type, 'counter');
  assert.equal(got.aggregator, 'sum');
  assert.deepEqual(samples(got), [['jobs_total', {}, 3.5]]);
});

test('labelled inc by object, by position and through a child all reach one series', async () => {
  const { iso } = isolated();
  const c = new Counter({ name: 'req_total', help: 'h', labelNames: ['method', 'code'], ...iso });
  c.inc({ method: 'GET', code: 200 });
  c.inc({ code: '200', method: 'GET' }, 2);
  c.labels('GET', '200').inc(3);
  c.labels({ method: 'GET', code: 200 }).inc();
  c.inc({ method: 'POST', code: '500' });
  assert.deepEqual(samples(await c.get()), [
    ['req_total', { method: 'GET', code: '200' }, 7],
    ['req_total', { method: 'POST', code: '500' }, 1],
  ]);
});

test('labels() returns the same cached child for the same label set', () => {
  const { iso } = isolated();
  const c = new Counter({ name: 'cache_total', help: 'h', labelNames: ['a'], ...iso });
  assert.equal(c.labels('x'), c.labels({ a: 'x' }));
  assert.notEqual(c.labels('x'), c.labels('y'));
});

test('label values that join to the same string stay separate series', async () => {
  const { iso } = isolated();
  const c = new Counter({ name: 'inj_total', help: 'h', labelNames: ['a', 'b'], ...iso });
  c.inc({ a: 'x,y', b: 'z' });
  c.inc({ a: 'x', b: 'y,z' });
  c.inc({ a: 'x:', b: 'y' }, 2);
  c.inc({ a: 'x', b: ':y' }, 3);
  assert.deepEqual(samples(await c.get()), [
    ['inj_total', { a: 'x,y', b: 'z' }, 1],
    ['inj_total', { a: 'x', b: 'y,z' }, 1],
    ['inj_total', { a: 'x:', b: 'y' }, 2],
    ['inj_total', { a: 'x', b: ':y' }, 3],
  ]);
});

test('counters reject negative, NaN and infinite increments with typed errors', () => {
  const { iso } = isolated();
  const c = new Counter({ name: 'neg_total', help: 'h', labelNames: ['a'], ...iso });
  const child = c.labels('x');
  const cases: [unknown, string][] = [
    [-1, 'PROMFORK_NEGATIVE_INCREMENT'],
    [Number.NaN, 'PROMFORK_INVALID_VALUE'],
    [Number.POSITIVE_INFINITY, 'PROMFORK_INVALID_VALUE'],
    ['1', 'PROMFORK_INVALID_VALUE'],
  ];
  for (const [value, code] of cases) {
    assert.throws(
      () => child.inc(value as number),
      (e: unknown) => e instanceof InvalidValueError && e.code === code,
    );
    assert.throws(() => c.inc({ a: 'x' }, value as number), { code });
  }
});

test('a missing or extra label names the label; bad values name the value', () => {
  const { iso } = isolated();
  const c = new Counter({
    name: 'strict_total',
    help: 'h',
    labelNames: ['method', 'route'],
    ...iso,
  });
  // prom-client would silently create a partial series here.
  assert.throws(
    () => c.inc({ method: 'GET' } as never),
    (e: unknown) =>
      e instanceof LabelSetError &&
      e.code === 'PROMFORK_LABEL_SET_MISMATCH' &&
      /"route"/.test(e.message),
  );
  assert.throws(
    () => c.inc({ method: 'GET', route: '/', extra: 'x' } as never),
    (e: unknown) => e instanceof LabelSetError && /"extra"/.test(e.message),
  );
  // the same label set after the series exists is still checked
  c.inc({ method: 'GET', route: '/' });
  assert.throws(() => c.inc({ method: 'GET', route: '/', extra: 'x' } as never), {
    code: 'PROMFORK_LABEL_SET_MISMATCH',
  });
  assert.throws(() => c.inc(), { code: 'PROMFORK_LABEL_SET_MISMATCH' });
  assert.throws(() => c.labels('GET'), { code: 'PROMFORK_LABEL_SET_MISMATCH' });
  for (const bad of [undefined, null, {}, Number.NaN, true]) {
    assert.throws(
      () => c.inc({ method: bad, route: '/' } as never),
      (e: unknown) => e instanceof PromforkError && e.code === 'PROMFORK_INVALID_LABEL_VALUE',
    );
  }
  assert.throws(() => c.inc({ method: 'GET', route: null } as never), /null/);
});

test('remove drops one series; reset drops all and keeps the unlabelled one at 0', async () => {
  const { iso } = isolated();
  const c = new Counter({ name: 'rm_total', help: 'h', labelNames: ['a'], ...iso });
  c.inc({ a: 'x' });
  c.inc({ a: 'y' }, 2);
  c.remove('x');
  assert.deepEqual(samples(await c.get()), [['rm_total', { a: 'y' }, 2]]);
  c.remove({ a: 'y' });
  assert.deepEqual(samples(await c.get()), []);
  c.inc({ a: 'y' });
  assert.deepEqual(samples(await c.get()), [['rm_total', { a: 'y' }, 1]]);
  c.reset();
  assert.deepEqual(samples(await c.get()), []);

  const u = new Counter({ name: 'rm_plain_total', help: 'h', ...iso });
  u.inc(5);
  u.reset();
  assert.deepEqual(samples(await u.get()), [['rm_plain_total', {}, 0]]);
});

test('initLabelSets and zero() create series at 0 before their first event', async () => {
  const { iso } = isolated();
  const c = new Counter({
    name: 'init_total',
    help: 'h',
    labelNames: ['code'],
    initLabelSets: [{ code: '200' }, { code: '500' }],
    ...iso,
  });
  c.zero({ code: '404' });
  c.inc({ code: '500' });
  c.zero({ code: '500' });
  assert.deepEqual(samples(await c.get()), [
    ['init_total', { code: '200' }, 0],
    ['init_total', { code: '500' }, 1],
    ['init_total', { code: '404' }, 0],
  ]);
  c.reset();
  assert.deepEqual(samples(await c.get()), [
    ['init_total', { code: '200' }, 0],
    ['init_total', { code: '500' }, 0],
  ]);
});

test('the collect callback runs (awaited, with this bound) before get()', async () => {
  const { iso } = isolated();
  const c = new Counter({
    name: 'collected_total',
    help: 'h',
    ...iso,
    async collect() {
      await Promise.resolve();
      this.inc(4);
    },
  });
  assert.deepEqual(samples(await c.get()), [['collected_total', {}, 4]]);
});

test('exemplars: prom-client 15 form keeps the latest exemplar per series', async () => {
  const { iso } = isolated();
  const c = new Counter({
    name: 'ex_total',
    help: 'h',
    labelNames: ['a'],
    enableExemplars: true,
    ...iso,
  });
  c.inc({ labels: { a: 'x' }, value: 2, exemplarLabels: { traceId: 'abc' } });
  c.inc({ labels: { a: 'x' }, value: 3, exemplarLabels: { traceId: 'def' } });
  c.inc({ a: 'y' });
  const values = (await c.get()).values;
  assert.equal(values[0]?.value, 5);
  assert.deepEqual(values[0]?.exemplar?.labels, { traceId: 'def' });
  assert.equal(values[0]?.exemplar?.value, 3);
  assert.equal(typeof values[0]?.exemplar?.timestamp, 'number');
  assert.equal(values[1]?.exemplar, undefined);
  assert.throws(() => c.inc({ labels: { a: 'x' }, exemplarLabels: { t: 'x'.repeat(200) } }), {
    code: 'PROMFORK_INVALID_EXEMPLAR',
  });
  const plain = new Counter({ name: 'noex_total', help: 'h', ...iso });
  assert.throws(() => plain.inc({ value: 1, exemplarLabels: { a: 'b' } }), {
    code: 'PROMFORK_OPERATION_NOT_SUPPORTED',
  });
});

test('exemplars: a label named __proto__ (from parsed JSON, say) is kept, not silently dropped', async () => {
  const { registry, iso } = isolated();
  const c = new Counter({ name: 'proto_total', help: 'h', enableExemplars: true, ...iso });
  c.inc({ value: 1, exemplarLabels: JSON.parse('{"__proto__":"x","a":"b"}') });
  const text = String((await registry.scrape('application/openmetrics-text; version=1.0.0')).body);
  assert.match(text, /^proto_total 1 # \{__proto__="x",a="b"\} 1 /m, text);
});
