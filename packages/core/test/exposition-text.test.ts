import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatText, PROMETHEUS_CONTENT_TYPE } from '../src/exposition/index.js';
import {
  counterBare,
  counterTotal,
  escaping,
  gaugeSpecial,
  histogramSeconds,
  summaryBytes,
} from './helpers/exposition-fixtures.js';

describe('Prometheus text format 0.0.4', () => {
  test('content type', () => {
    assert.equal(PROMETHEUS_CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8');
  });

  test('no families render as the empty string', () => {
    assert.equal(formatText([]), '');
  });

  test('counters keep the family name as given, exemplars are left out', () => {
    assert.equal(
      formatText([counterTotal, counterBare]),
      [
        '# HELP http_requests_total Requests served',
        '# TYPE http_requests_total counter',
        'http_requests_total{method="GET",route="/users/:id"} 3',
        'http_requests_total{method="POST",route="/users"} 0',
        '# HELP jobs_done Jobs done',
        '# TYPE jobs_done counter',
        'jobs_done 12',
        '',
      ].join('\n'),
    );
  });

  test('special numbers, exact large integers and millisecond timestamps', () => {
    assert.equal(
      formatText([gaugeSpecial]),
      [
        '# HELP temperature_celsius Current temperature',
        '# TYPE temperature_celsius gauge',
        'temperature_celsius{sensor="negzero"} -0',
        'temperature_celsius{sensor="nan"} NaN',
        'temperature_celsius{sensor="posinf"} +Inf',
        'temperature_celsius{sensor="neginf"} -Inf',
        'temperature_celsius{sensor="huge"} 1000000000000000000000',
        'temperature_celsius{sensor="tiny"} 1.5e-7',
        'temperature_celsius{sensor="stamped"} 21.25 1520879607789',
        '',
      ].join('\n'),
    );
  });

  test('histogram and summary samples with le and quantile', () => {
    assert.equal(
      formatText([histogramSeconds, summaryBytes]),
      [
        '# HELP request_duration_seconds Request duration',
        '# TYPE request_duration_seconds histogram',
        'request_duration_seconds_bucket{le="0.005",method="GET"} 1',
        'request_duration_seconds_bucket{le="1",method="GET"} 2',
        'request_duration_seconds_bucket{le="1000000",method="GET"} 3',
        'request_duration_seconds_bucket{le="+Inf",method="GET"} 4',
        'request_duration_seconds_sum{method="GET"} 12.5',
        'request_duration_seconds_count{method="GET"} 4',
        '# HELP response_size_bytes Response size',
        '# TYPE response_size_bytes summary',
        'response_size_bytes{quantile="0.5"} 120',
        'response_size_bytes{quantile="0.99"} 900',
        'response_size_bytes{quantile="1"} 1000',
        'response_size_bytes_sum 5000',
        'response_size_bytes_count 20',
        '',
      ].join('\n'),
    );
  });

  test('HELP escapes backslash and newline only; label values also escape quotes', () => {
    assert.equal(
      formatText([escaping]),
      [
        '# HELP escape_test Help with "quotes", a \\\\ backslash\\nand a second line',
        '# TYPE escape_test gauge',
        'escape_test{path="C:\\\\dir\\\\\\"file\\"\\nnext",unicode="ü€😀\t\r"} 1',
        '',
      ].join('\n'),
    );
  });

  test('an empty help text leaves the HELP line out', () => {
    const text = formatText([{ ...counterBare, help: '' }]);
    assert.equal(text, '# TYPE jobs_done counter\njobs_done 12\n');
  });

  test('a timestamp with a fraction of a millisecond is rounded (the format wants int64)', () => {
    const text = formatText([
      { ...counterBare, values: [{ value: 1, labels: {}, timestamp: 1000.6 }] },
    ]);
    assert.match(text, /^jobs_done 1 1001$/m);
  });
});
