import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EXEMPLAR_MAX_LABEL_CHARS,
  formatOpenMetrics,
  OPENMETRICS_CONTENT_TYPE,
  openMetricsFamilyName,
} from '../src/exposition/index.js';
import type { MetricObject } from '../src/types.js';
import {
  counterBare,
  counterTotal,
  escaping,
  gaugeSpecial,
  histogramSeconds,
  summaryBytes,
} from './helpers/exposition-fixtures.js';
import { parseExposition } from './helpers/parse-exposition.js';

describe('OpenMetrics 1.0.0', () => {
  test('content type', () => {
    assert.equal(
      OPENMETRICS_CONTENT_TYPE,
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
  });

  test('no families render as just # EOF', () => {
    assert.equal(formatOpenMetrics([]), '# EOF\n');
  });

  test('counter family names drop _total, samples always carry it, with exemplars', () => {
    assert.equal(
      formatOpenMetrics([counterTotal, counterBare]),
      [
        '# TYPE http_requests counter',
        '# HELP http_requests Requests served',
        'http_requests_total{method="GET",route="/users/:id"} 3 # {trace_id="abc123"} 1 1520879607.789',
        'http_requests_total{method="POST",route="/users"} 0',
        '# TYPE jobs_done counter',
        '# HELP jobs_done Jobs done',
        'jobs_done_total 12',
        '# EOF',
        '',
      ].join('\n'),
    );
    assert.equal(openMetricsFamilyName({ name: 'x_total', type: 'counter' }), 'x');
    assert.equal(openMetricsFamilyName({ name: '_total', type: 'counter' }), '_total');
    assert.equal(openMetricsFamilyName({ name: 'x_total', type: 'gauge' }), 'x_total');
  });

  test('special numbers and timestamps in seconds', () => {
    const text = formatOpenMetrics([gaugeSpecial]);
    assert.equal(
      text,
      [
        '# TYPE temperature_celsius gauge',
        '# HELP temperature_celsius Current temperature',
        'temperature_celsius{sensor="negzero"} -0',
        'temperature_celsius{sensor="nan"} NaN',
        'temperature_celsius{sensor="posinf"} +Inf',
        'temperature_celsius{sensor="neginf"} -Inf',
        'temperature_celsius{sensor="huge"} 1000000000000000000000',
        'temperature_celsius{sensor="tiny"} 1.5e-7',
        'temperature_celsius{sensor="stamped"} 21.25 1520879607.789',
        '# EOF',
        '',
      ].join('\n'),
    );
    const values = parseExposition(text, 'openmetrics')[0]?.samples.map((s) => s.value);
    assert.ok(values !== undefined && Object.is(values[0], -0));
    assert.ok(Number.isNaN(values[1]));
  });

  test('histogram: UNIT, canonical le, exemplar on a bucket; summary: canonical quantile', () => {
    assert.equal(
      formatOpenMetrics([histogramSeconds, summaryBytes]),
      [
        '# TYPE request_duration_seconds histogram',
        '# UNIT request_duration_seconds seconds',
        '# HELP request_duration_seconds Request duration',
        'request_duration_seconds_bucket{le="0.005",method="GET"} 1 # {trace_id="KOO5S4vxi0o"} 0.004',
        'request_duration_seconds_bucket{le="1.0",method="GET"} 2',
        'request_duration_seconds_bucket{le="1e+06",method="GET"} 3',
        'request_duration_seconds_bucket{le="+Inf",method="GET"} 4',
        'request_duration_seconds_sum{method="GET"} 12.5',
        'request_duration_seconds_count{method="GET"} 4',
        '# TYPE response_size_bytes summary',
        '# HELP response_size_bytes Response size',
        'response_size_bytes{quantile="0.5"} 120',
        'response_size_bytes{quantile="0.99"} 900',
        'response_size_bytes{quantile="1.0"} 1000',
        'response_size_bytes_sum 5000',
        'response_size_bytes_count 20',
        '# EOF',
        '',
      ].join('\n'),
    );
  });

  test('string le values are canonicalised too', () => {
    const h: MetricObject = {
      ...histogramSeconds,
      values: [
        { value: 1, labels: { le: '10' }, metricName: 'request_duration_seconds_bucket' },
        { value: 1, labels: { le: '+Inf' }, metricName: 'request_duration_seconds_bucket' },
      ],
    };
    assert.match(formatOpenMetrics([h]), /_bucket\{le="10\.0"\} 1\n.*le="\+Inf"/);
  });

  test('HELP escapes quotes as well as backslash and newline', () => {
    assert.match(
      formatOpenMetrics([escaping]),
      /^# HELP escape_test Help with \\"quotes\\", a \\\\ backslash\\nand a second line$/m,
    );
  });

  test('a UNIT that is not the suffix of the name is not rendered', () => {
    const text = formatOpenMetrics([{ ...counterBare, unit: 'seconds' }]);
    assert.doesNotMatch(text, /# UNIT/);
  });

  test('exemplars only where OpenMetrics allows them, and within the label limit', () => {
    const exemplar = { labels: { trace_id: 'x' }, value: 1 };
    const gauge: MetricObject = {
      ...gaugeSpecial,
      values: [{ value: 1, labels: {}, exemplar }],
    };
    assert.doesNotMatch(formatOpenMetrics([gauge]), / # \{/);
    const sum: MetricObject = {
      ...histogramSeconds,
      values: [
        { value: 1, labels: { le: '+Inf' }, metricName: 'request_duration_seconds_bucket' },
        { value: 1, labels: {}, metricName: 'request_duration_seconds_sum', exemplar },
        { value: 1, labels: {}, metricName: 'request_duration_seconds_count' },
      ],
    };
    assert.doesNotMatch(formatOpenMetrics([sum]), / # \{/);
    const atLimit = { t: 'a'.repeat(EXEMPLAR_MAX_LABEL_CHARS - 1) };
    const overLimit = { t: 'a'.repeat(EXEMPLAR_MAX_LABEL_CHARS) };
    const counter = (labels: Record<string, string>): MetricObject => ({
      ...counterBare,
      values: [{ value: 1, labels: {}, exemplar: { labels, value: 2 } }],
    });
    assert.match(formatOpenMetrics([counter(atLimit)]), / # \{t="a+"\} 2$/m);
    assert.doesNotMatch(formatOpenMetrics([counter(overLimit)]), / # /);
    assert.match(formatOpenMetrics([counter({})]), /^jobs_done_total 1 # \{\} 2$/m);
  });
});
