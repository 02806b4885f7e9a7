/**
 * Series keys read from files: the fast split of plain keys and the JSON path for everything
 * else must agree on label values and on the in-memory key (merging relies on it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeSeriesKeyText, seriesKey } from '../src/file-store/format.js';

describe('decodeSeriesKeyText', () => {
  it('round-trips any label values written by seriesKey (fast-check)', () => {
    const value = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.constantFrom('', '"', '\\', '","', 'a","b', '\n', '\u0000', '[', ']', 'ü🚀'),
    );
    fc.assert(
      fc.property(fc.array(value, { maxLength: 5 }), (values) => {
        const decoded = decodeSeriesKeyText(seriesKey(values));
        assert.deepEqual(decoded, { labelValues: values, key: seriesKey(values) });
      }),
      { numRuns: 2000 },
    );
  });

  it('makes the canonical key of keys written in another JSON style', () => {
    assert.deepEqual(decodeSeriesKeyText('[ "a" , "b" ]'), {
      labelValues: ['a', 'b'],
      key: '["a","b"]',
    });
    assert.deepEqual(decodeSeriesKeyText('["\\u0061"]'), { labelValues: ['a'], key: '["a"]' });
    assert.deepEqual(decodeSeriesKeyText('[]'), { labelValues: [], key: '[]' });
    assert.deepEqual(decodeSeriesKeyText('[""]'), { labelValues: [''], key: '[""]' });
  });

  it('refuses what is not an array of Unicode strings', () => {
    for (const text of [
      '',
      '[',
      '["a"',
      '["a"b"]',
      '["a",1]',
      '{"a":"b"}',
      '"a"',
      '["\\ud800"]',
      '["]',
    ]) {
      assert.equal(decodeSeriesKeyText(text), undefined, text);
    }
  });
});
