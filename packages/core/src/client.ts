/**
 * The default export: one object with prom-client's names, so that prom-client code written
 * as `import client from 'prom-client'` (or `const client = require('prom-client')`) runs
 * after changing only the module name. Every member is the same value as the named export of
 * that name. prom-client names promfork does not provide (`AggregatorRegistry`, `aggregators`)
 * are absent; docs/migrating-from-prom-client.md gives their replacements.
 */
import { exponentialBuckets, linearBuckets } from './buckets.js';
import { Counter } from './counter.js';
import { collectDefaultMetrics } from './default-metrics.js';
import { Gauge } from './gauge.js';
import { Histogram } from './histogram.js';
import { Pushgateway } from './pushgateway.js';
import {
  openMetricsContentType,
  prometheusContentType,
  Registry,
  type RegistryContentType,
  register,
} from './registry.js';
import { Summary } from './summary.js';
import { validateLabelName, validateMetricName } from './validation.js';

/** The shape of the default export: prom-client's top-level names. */
export interface PromClientNames {
  readonly Counter: typeof Counter;
  readonly Gauge: typeof Gauge;
  readonly Histogram: typeof Histogram;
  readonly Summary: typeof Summary;
  readonly Registry: typeof Registry;
  readonly Pushgateway: typeof Pushgateway;
  readonly register: Registry;
  /** The default registry's content type, following `register.setContentType()`. */
  readonly contentType: RegistryContentType;
  readonly prometheusContentType: typeof prometheusContentType;
  readonly openMetricsContentType: typeof openMetricsContentType;
  readonly collectDefaultMetrics: typeof collectDefaultMetrics;
  readonly linearBuckets: typeof linearBuckets;
  readonly exponentialBuckets: typeof exponentialBuckets;
  readonly validateMetricName: typeof validateMetricName;
  readonly validateLabelName: typeof validateLabelName;
}

/** prom-client's names as one object (`import client from '@promfork/core'`). */
const client: PromClientNames = Object.freeze({
  Counter,
  Gauge,
  Histogram,
  Summary,
  Registry,
  Pushgateway,
  register,
  get contentType(): RegistryContentType {
    return register.contentType;
  },
  prometheusContentType,
  openMetricsContentType,
  collectDefaultMetrics,
  linearBuckets,
  exponentialBuckets,
  validateMetricName,
  validateLabelName,
});

export default client;
