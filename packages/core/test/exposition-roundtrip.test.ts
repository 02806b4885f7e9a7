/**
 * Property tests: any label value, any help text and any number rendered by either format
 * parses back to exactly what was given; a batch of generated cases also passes promtool.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatOpenMetrics, formatText } from '../src/exposition/index.js';
import type { MetricObject } from '../src/types.js';
import { AWKWARD_CHARS } from './helpers/awkward-chars.js';
import { escaping } from './helpers/exposition-fixtures.js';
import { type ExpositionSyntax, parseExposition } from './helpers/parse-exposition.js';
import { checkWithPromtool } from './helpers/promtool.js';

const RUNS = 500;

/** Strings dense in the characters that need escaping, mixed with any Unicode code point. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...AWKWARD_CHARS), maxLength: 40 }),
);

const render = (syntax: ExpositionSyntax, metrics: readonly MetricObject[]) =>
  syntax === 'prometheus' ? formatText(metrics) : formatOpenMetrics(metrics);

function gauge(help: string, labels: Record<string, string>, value = 1): MetricObject {
  return { name: 'roundtrip', help, type: 'gauge', aggregator: 'sum', values: [{ value, labels }] };
}

/**
 * What the text format 0.0.4 can carry of a help text: Prometheus' parser skips blanks before
 * it, and no escape can protect them. Everything else survives.
 */
const textHelp = (help: string) => help.replace(/^[ \t]+/, '');

describe('exposition round trip (fast-check)', () => {
  for (const syntax of ['prometheus', 'openmetrics'] as const) {
    test(`${syntax}: any label value round-trips exactly`, () => {
      fc.assert(
        fc.property(anyText, anyText, (a, b) => {
          const [family] = parseExposition(render(syntax, [gauge('h', { a, b })]), syntax);
          assert.deepEqual(family?.samples[0]?.labels, { a, b });
        }),
        { numRuns: RUNS },
      );
    });

    test(`${syntax}: any help text round-trips exactly`, () => {
      fc.assert(
        fc.property(anyText, (help) => {
          const [family] = parseExposition(render(syntax, [gauge(help, {})]), syntax);
          assert.equal(family?.help, syntax === 'prometheus' ? textHelp(help) : help);
        }),
        { numRuns: RUNS },
      );
    });

    test(`${syntax}: the escaping fixture's help and label values round-trip exactly`, () => {
      const [family] = parseExposition(render(syntax, [escaping]), syntax);
      assert.equal(family?.help, escaping.help);
      assert.deepEqual(family?.samples[0]?.labels, escaping.values[0]?.labels);
    });

    test(`${syntax}: any number round-trips exactly (NaN, infinities and -0 included)`, () => {
      fc.assert(
        fc.property(fc.double(), (value) => {
          const [family] = parseExposition(render(syntax, [gauge('h', {}, value)]), syntax);
          assert.ok(Object.is(family?.samples[0]?.value, value), `${value}`);
        }),
        { numRuns: RUNS },
      );
    });

    test(`${syntax}: generated label values and help texts pass promtool`, (t) => {
      const helps = fc.sample(anyText, { numRuns: 60, seed: 42 });
      const values = fc.sample(anyText, { numRuns: 200, seed: 7 });
      const numbers = fc.sample(fc.double(), { numRuns: 60, seed: 9 });
      const metrics: MetricObject[] = helps.map((help, i) => ({
        name: `roundtrip_${i}`,
        help,
        type: 'gauge',
        aggregator: 'sum',
        values: values.slice(i * 3, i * 3 + 3).map((v, j) => ({
          value: numbers[i] ?? 0,
          labels: { v, j: String(j) },
        })),
      }));
      const text = render(syntax, metrics);
      const parsed = parseExposition(text, syntax);
      assert.equal(parsed.length, metrics.length);
      checkWithPromtool(t, text, syntax, { allowLint: ['no help text'] });
    });
  }

  test('text format: leading blanks of a help text are the only loss (format limit)', () => {
    const [family] = parseExposition(formatText([gauge(' \t x ', {})]), 'prometheus');
    assert.equal(family?.help, 'x ');
    const [om] = parseExposition(formatOpenMetrics([gauge(' \t x ', {})]), 'openmetrics');
    assert.equal(om?.help, ' \t x ');
  });
});
