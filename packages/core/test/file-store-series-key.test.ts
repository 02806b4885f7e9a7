/**
 * Series keys read from files: the fast split of plain keys and the JSON path for everything
 * else must agree on label values and on the in-memory key (merging relies on it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeSeriesKey, decodeSeriesKeyText, seriesKey } from '../src/file-store/format.js';

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

  it('decodes any text exactly as JSON.parse does, or refuses it alike (fast-check)', () => {
    // Texts made of the characters the plain-key check looks at: it must never take a text
    // that JSON refuses or reads otherwise (a planted file's key is refused either way).
    const chars = fc
      .array(fc.constantFrom('[', ']', '"', ',', '","', '\\', 'a', ' ', '\n', 'ü'), {
        maxLength: 8,
      })
      .map((parts) => parts.join(''));
    // Half of them framed as a key is (`["...."]`), where the plain-key check does its work.
    const text = fc.oneof(
      chars,
      chars.map((inner) => `["${inner}"]`),
    );
    fc.assert(
      fc.property(text, (t) => {
        const values = decodeSeriesKey(t);
        const expected =
          values === undefined ? undefined : { labelValues: values, key: seriesKey(values) };
        assert.deepEqual(decodeSeriesKeyText(t), expected, t);
      }),
      { numRuns: 20000 },
    );
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
