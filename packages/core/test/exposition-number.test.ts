import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatCanonical, formatValue } from '../src/exposition/index.js';

describe('number rendering', () => {
  test('values: special numbers, -0, plain integers, shortest round-trip otherwise', () => {
    const cases: [number, string][] = [
      [0, '0'],
      [-0, '-0'],
      [1, '1'],
      [-42, '-42'],
      [1e6, '1000000'],
      [2 ** 53, '9007199254740992'],
      [1e21, '1000000000000000000000'],
      [-1.5e22, '-15000000000000000000000'],
      [0.1, '0.1'],
      [1 / 3, '0.3333333333333333'],
      [1.5e-7, '1.5e-7'],
      [Number.POSITIVE_INFINITY, '+Inf'],
      [Number.NEGATIVE_INFINITY, '-Inf'],
      [Number.NaN, 'NaN'],
    ];
    for (const [value, text] of cases) {
      assert.equal(formatValue(value), text, `formatValue(${value})`);
      const back = text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);
      assert.ok(Object.is(back, value), `${text} parses back to ${value}`);
    }
  });

  test('canonical numbers follow the OpenMetrics examples', () => {
    // The two example rows of the spec's "Canonical Numbers" section.
    const row1 = [0, 0.001, 0.002, 0.01, 0.1, 0.9, 0.95, 0.99, 0.999, 1, 1.7, 10];
    assert.deepEqual(row1.map(formatCanonical), [
      '0.0',
      '0.001',
      '0.002',
      '0.01',
      '0.1',
      '0.9',
      '0.95',
      '0.99',
      '0.999',
      '1.0',
      '1.7',
      '10.0',
    ]);
    const row2 = [1e-10, 1e-9, 1e-5, 0.0001, 0.1, 1, 100000, 1e6, 1e10];
    assert.deepEqual(row2.map(formatCanonical), [
      '1e-10',
      '1e-09',
      '1e-05',
      '0.0001',
      '0.1',
      '1.0',
      '100000.0',
      '1e+06',
      '1e+10',
    ]);
    assert.equal(formatCanonical(1.1e23), '1.1e+23');
    assert.equal(formatCanonical(1234567), '1.234567e+06');
    assert.equal(formatCanonical(Number.POSITIVE_INFINITY), '+Inf');
    assert.equal(formatCanonical(-2.5), '-2.5');
  });
});
