/**
 * Metric families in prom-client's `get()` shape, used as exposition fixtures. Each covers a
 * concept the formats treat specially; every one is rendered in both formats, compared with
 * the expected text and checked with promtool.
 */
import type { MetricObject } from '../../src/types.js';

/** A named fixture. */
export interface ExpositionFixture {
  readonly name: string;
  readonly metrics: readonly MetricObject[];
  /** promtool lint findings this fixture triggers on purpose (text format). */
  readonly allowLint?: readonly string[];
}

/** prom-client style counter whose name already ends in `_total`, with an exemplar. */
export const counterTotal: MetricObject = {
  name: 'http_requests_total',
  help: 'Requests served',
  type: 'counter',
  aggregator: 'sum',
  values: [
    {
      value: 3,
      labels: { method: 'GET', route: '/users/:id' },
      exemplar: { labels: { trace_id: 'abc123' }, value: 1, timestamp: 1520879607.789 },
    },
    { value: 0, labels: { method: 'POST', route: '/users' } },
  ],
};

/** Counter named without `_total` (allowed by prom-client; promtool lints it). */
export const counterBare: MetricObject = {
  name: 'jobs_done',
  help: 'Jobs done',
  type: 'counter',
  aggregator: 'sum',
  values: [{ value: 12, labels: {} }],
};

/** Gauge with every special number and a timestamp. */
export const gaugeSpecial: MetricObject = {
  name: 'temperature_celsius',
  help: 'Current temperature',
  type: 'gauge',
  aggregator: 'sum',
  values: [
    { value: -0, labels: { sensor: 'negzero' } },
    { value: Number.NaN, labels: { sensor: 'nan' } },
    { value: Number.POSITIVE_INFINITY, labels: { sensor: 'posinf' } },
    { value: Number.NEGATIVE_INFINITY, labels: { sensor: 'neginf' } },
    { value: 1e21, labels: { sensor: 'huge' } },
    { value: 1.5e-7, labels: { sensor: 'tiny' } },
    { value: 21.25, labels: { sensor: 'stamped' }, timestamp: 1520879607789 },
  ],
};

/** Histogram in prom-client's shape (numeric `le`, string `'+Inf'`), with a unit and an exemplar. */
export const histogramSeconds: MetricObject = {
  name: 'request_duration_seconds',
  help: 'Request duration',
  type: 'histogram',
  aggregator: 'sum',
  unit: 'seconds',
  values: [
    {
      value: 1,
      labels: { le: 0.005, method: 'GET' },
      metricName: 'request_duration_seconds_bucket',
      exemplar: { labels: { trace_id: 'KOO5S4vxi0o' }, value: 0.004 },
    },
    { value: 2, labels: { le: 1, method: 'GET' }, metricName: 'request_duration_seconds_bucket' },
    {
      value: 3,
      labels: { le: 1000000, method: 'GET' },
      metricName: 'request_duration_seconds_bucket',
    },
    {
      value: 4,
      labels: { le: '+Inf', method: 'GET' },
      metricName: 'request_duration_seconds_bucket',
    },
    { value: 12.5, labels: { method: 'GET' }, metricName: 'request_duration_seconds_sum' },
    { value: 4, labels: { method: 'GET' }, metricName: 'request_duration_seconds_count' },
  ],
};

/** Summary with quantiles, sum and count. */
export const summaryBytes: MetricObject = {
  name: 'response_size_bytes',
  help: 'Response size',
  type: 'summary',
  aggregator: 'sum',
  values: [
    { value: 120, labels: { quantile: 0.5 } },
    { value: 900, labels: { quantile: 0.99 } },
    { value: 1000, labels: { quantile: 1 } },
    { value: 5000, labels: {}, metricName: 'response_size_bytes_sum' },
    { value: 20, labels: {}, metricName: 'response_size_bytes_count' },
  ],
};

/** Label values and help text with every character that needs escaping. */
export const escaping: MetricObject = {
  name: 'escape_test',
  help: 'Help with "quotes", a \\ backslash\nand a second line',
  type: 'gauge',
  aggregator: 'sum',
  values: [{ value: 1, labels: { path: 'C:\\dir\\"file"\nnext', unicode: 'ü€😀\t\r' } }],
};

/** A family with no series yet. */
export const emptyFamily: MetricObject = {
  name: 'queue_depth',
  help: 'Items waiting',
  type: 'gauge',
  aggregator: 'sum',
  values: [],
};

/** Every fixture. */
export const FIXTURES: readonly ExpositionFixture[] = [
  { name: 'counter ending in _total', metrics: [counterTotal] },
  {
    name: 'counter without _total',
    metrics: [counterBare],
    allowLint: ['should have "_total" suffix'],
  },
  { name: 'gauge special values', metrics: [gaugeSpecial] },
  { name: 'histogram', metrics: [histogramSeconds] },
  { name: 'summary', metrics: [summaryBytes] },
  { name: 'escaping', metrics: [escaping] },
  { name: 'empty family', metrics: [emptyFamily] },
  {
    name: 'all together',
    metrics: [
      counterTotal,
      counterBare,
      gaugeSpecial,
      histogramSeconds,
      summaryBytes,
      escaping,
      emptyFamily,
    ],
    allowLint: ['should have "_total" suffix'],
  },
];
