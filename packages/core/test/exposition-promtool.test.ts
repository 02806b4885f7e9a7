/**
 * Prometheus' own parsers accept what both formats render: every exposition fixture, through
 * `promtool` (skipped with a message where it is missing, except under CI). Also checks that
 * the test helpers themselves reject broken expositions, so a passing check means something.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatOpenMetrics, formatText } from '../src/exposition/index.js';
import { FIXTURES } from './helpers/exposition-fixtures.js';
import { parseExposition } from './helpers/parse-exposition.js';
import { checkWithPromtool } from './helpers/promtool.js';

describe('Prometheus accepts every fixture', () => {
  for (const fixture of FIXTURES) {
    test(`promtool accepts fixture in the text format: ${fixture.name}`, (t) => {
      const text = formatText(fixture.metrics);
      parseExposition(text, 'prometheus');
      checkWithPromtool(t, text, 'prometheus', { allowLint: fixture.allowLint ?? [] });
    });
    test(`promtool's OpenMetrics parser accepts fixture: ${fixture.name}`, (t) => {
      const text = formatOpenMetrics(fixture.metrics);
      parseExposition(text, 'openmetrics');
      checkWithPromtool(t, text, 'openmetrics');
    });
  }
});

describe('test helpers catch broken expositions', () => {
  test('the parser rejects an undefined escape and an unescaped quote', () => {
    assert.throws(() => parseExposition('x{a="\\q"} 1\n', 'prometheus'), /invalid escape/);
    assert.throws(() => parseExposition('x{a="""} 1\n', 'prometheus'), /expected/);
    assert.throws(() => parseExposition('# TYPE x gauge\nx 1\n', 'openmetrics'), /# EOF/);
  });

  test('promtool rejects what Prometheus cannot parse', (t) => {
    assert.throws(
      () => checkWithPromtool(t, '# TYPE x gauge\nx{a="\\q"} 1\n', 'prometheus'),
      /promtool check metrics failed/,
    );
  });
});
