/**
 * Compile-time checks of typed label names: each `@ts-expect-error` line must fail to compile,
 * so `npm run build` fails if the types stop catching a wrong label. The runtime part checks
 * the same calls throw.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Gauge, Histogram, MemoryStore, Registry } from '../src/index.js';

const iso = () => ({ registers: [new Registry()], store: new MemoryStore() });

test('label names are inferred from labelNames and checked at compile time', () => {
  const inferred = new Counter({
    name: 'typed_total',
    help: 'h',
    labelNames: ['method', 'route'],
    ...iso(),
  });
  inferred.inc({ method: 'GET', route: '/' });
  assert.throws(() => {
    // @ts-expect-error wrong label name
    inferred.inc({ wrong: 'x' });
  });
  assert.throws(() => {
    // @ts-expect-error a declared label is missing
    inferred.inc({ method: 'GET' });
  });

  const explicit = new Gauge<'method' | 'route'>({
    name: 'typed_g',
    help: 'h',
    labelNames: ['method', 'route'] as const,
    ...iso(),
  });
  explicit.set({ method: 'GET', route: '/' }, 1);
  assert.throws(() => {
    // @ts-expect-error wrong label name
    explicit.set({ wrong: 'x' }, 1);
  });

  const h = new Histogram({ name: 'typed_h', help: 'h', labelNames: ['code'], ...iso() });
  h.labels({ code: 200 }).observe(1);
  assert.throws(() => {
    // @ts-expect-error wrong label name
    h.observe({ status: 200 }, 1);
  });
  // Valid at run time, but the label names disagree with the declared type parameter.
  const mismatched = new Counter<'a'>({
    name: 'typed_bad',
    help: 'h',
    // @ts-expect-error labelNames must be declared as one of T
    labelNames: ['b'],
    ...iso(),
  });
  assert.equal(mismatched.labelNames[0], 'b');
});
