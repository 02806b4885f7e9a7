import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  negotiateFormat,
  OPENMETRICS_CONTENT_TYPE,
  OPENMETRICS_FORMAT,
  PROMETHEUS_CONTENT_TYPE,
  PROMETHEUS_FORMAT,
  PROTOBUF_CONTENT_TYPE,
  PROTOBUF_FORMAT,
} from '../src/exposition/index.js';
import { counterTotal } from './helpers/exposition-fixtures.js';

describe('Accept negotiation', () => {
  const cases: [string | undefined, 'prometheus' | 'openmetrics' | 'protobuf'][] = [
    [undefined, 'prometheus'],
    ['', 'prometheus'],
    ['*/*', 'prometheus'],
    ['text/plain', 'prometheus'],
    ['application/json', 'prometheus'],
    ['application/openmetrics-text', 'openmetrics'],
    ['APPLICATION/OpenMetrics-Text; Version=1.0.0', 'openmetrics'],
    // What Prometheus 2.x sends by default.
    [
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      'openmetrics',
    ],
    // Prometheus 3 style with an escaping parameter.
    [
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,text/plain;version=0.0.4;q=0.3',
      'openmetrics',
    ],
    // Equal preference goes to OpenMetrics.
    ['text/plain, application/openmetrics-text', 'openmetrics'],
    ['text/plain;q=0.5, application/openmetrics-text;q=0.5', 'openmetrics'],
    // Lower preference does not.
    ['text/plain, application/openmetrics-text;q=0.9', 'prometheus'],
    ['text/*;q=0.8, application/openmetrics-text;q=0.7', 'prometheus'],
    // The most specific range decides text's quality.
    ['text/plain;q=0.2, */*;q=1, application/openmetrics-text;q=0.5', 'openmetrics'],
    // q=0 means "not acceptable".
    ['application/openmetrics-text;q=0', 'prometheus'],
    ['application/openmetrics-text;q=0, text/plain;q=0', 'prometheus'],
    ['application/openmetrics-text, text/plain;q=0', 'openmetrics'],
    // Versions we do not produce are not acceptable as OpenMetrics.
    ['application/openmetrics-text;version=2.0.0', 'prometheus'],
    // A text/plain version other than 0.0.4 does not count for the text format.
    ['text/plain;version=1.0.0;q=1, application/openmetrics-text;q=0.5', 'openmetrics'],
    // Malformed q: that range is ignored.
    ['application/openmetrics-text;q=high', 'prometheus'],
    ['application/openmetrics-text;q=1.5, text/plain', 'prometheus'],
    // What Prometheus 2.42 sends with --enable-feature=native-histograms (captured from one).
    [
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      'protobuf',
    ],
    [
      'Application/Vnd.Google.Protobuf; Proto=io.prometheus.client.MetricFamily; Encoding=Delimited',
      'protobuf',
    ],
    // Equal preference goes to protobuf; lower does not.
    [
      'application/openmetrics-text, application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
      'protobuf',
    ],
    [
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,application/openmetrics-text',
      'openmetrics',
    ],
    [
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,text/plain',
      'prometheus',
    ],
    [
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0',
      'prometheus',
    ],
    // Only the delimited encoding of MetricFamily is served; wildcards never select protobuf.
    [
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text',
      'prometheus',
    ],
    [
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=compact-text',
      'prometheus',
    ],
    ['application/vnd.google.protobuf;encoding=delimited', 'prometheus'],
    ['application/vnd.google.protobuf;proto=other.Message;encoding=delimited', 'prometheus'],
    ['application/*', 'prometheus'],
    // Garbage is survivable.
    ['garbage,,;;,/,a/', 'prometheus'],
    ['application/openmetrics-text;foo="a,b;c"', 'openmetrics'],
  ];
  for (const [accept, expected] of cases) {
    test(`${JSON.stringify(accept)} -> ${expected}`, () => {
      assert.equal(negotiateFormat(accept).name, expected);
    });
  }

  test('formats carry their content type and renderer', () => {
    assert.equal(PROMETHEUS_FORMAT.contentType, PROMETHEUS_CONTENT_TYPE);
    assert.equal(OPENMETRICS_FORMAT.contentType, OPENMETRICS_CONTENT_TYPE);
    assert.equal(PROTOBUF_FORMAT.contentType, PROTOBUF_CONTENT_TYPE);
    assert.equal(
      PROTOBUF_CONTENT_TYPE,
      'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited',
    );
    assert.match(OPENMETRICS_FORMAT.render([counterTotal]), /# EOF\n$/);
    assert.match(PROMETHEUS_FORMAT.render([counterTotal]), /^# HELP http_requests_total /);
  });
});
