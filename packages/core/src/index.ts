/**
 * Public API of @promfork/core. Exports by name only (no `export *`), so the surface is
 * visible here and nothing internal leaks by accident. The default export is prom-client's
 * names as one object (client.ts).
 */

export { DEFAULT_BUCKETS, exponentialBuckets, linearBuckets, MAX_BUCKETS } from './buckets.js';
export { default, type PromClientNames } from './client.js';
export {
  Counter,
  CounterChild,
  type CounterConfiguration,
  type IncreaseDataWithExemplar,
} from './counter.js';
export {
  collectDefaultMetrics,
  DEFAULT_GC_DURATION_BUCKETS,
  DEFAULT_METRIC_NAMES,
  type DefaultMetrics,
  type DefaultMetricsOptions,
} from './default-metrics.js';
export { getDefaultStore, setDefaultStore } from './default-store.js';
export {
  AlreadyRegisteredError,
  ERROR_CODES,
  type ErrorCode,
  InvalidOptionError,
  InvalidValueError,
  LabelSetError,
  ListenError,
  PromforkError,
  PushgatewayError,
  StoreError,
} from './errors.js';
export { EXEMPLAR_MAX_CHARS } from './exemplar.js';
export {
  type ExpositionFormat,
  formatOpenMetrics,
  formatText,
  negotiateFormat,
  OPENMETRICS_CONTENT_TYPE,
  OPENMETRICS_FORMAT,
  PROMETHEUS_CONTENT_TYPE,
  PROMETHEUS_FORMAT,
  PROTOBUF_CONTENT_TYPE,
  PROTOBUF_FORMAT,
  type TextExpositionFormat,
} from './exposition/index.js';
export {
  type CompactionReport,
  type CompactOnWorkerExitOptions,
  compactDeadProcesses,
  compactOnWorkerExit,
  type DeadProcessOptions,
  FileStore,
  type FileStoreOptions,
  markProcessDead,
  type PrepareDirectoryOptions,
  prepareDirectory,
} from './file-store/index.js';
export { AGGREGATOR_MODES, Gauge, GaugeChild, type GaugeConfiguration } from './gauge.js';
export {
  Histogram,
  HistogramChild,
  type HistogramConfiguration,
  type ObserveDataWithExemplar,
} from './histogram.js';
export {
  CONVENTIONS,
  EXPRESS_PROM_BUNDLE_BUCKETS,
  HTTP_CONVENTIONS,
  type HttpConvention,
  type HttpConventions,
  type HttpLabelNames,
  type HttpMetricNames,
  OTEL_DURATION_BUCKETS,
  OTEL_METHODS,
  OTEL_OTHER_METHOD,
} from './http/conventions.js';
export {
  createMetricsRoute,
  elapsedSeconds,
  HTTP_REQUEST_DURATION_SECONDS,
  HTTP_REQUEST_SIZE_BYTES,
  HTTP_REQUESTS_IN_FLIGHT,
  HTTP_REQUESTS_TOTAL,
  HTTP_RESPONSE_SIZE_BYTES,
  HttpInstrumentation,
  type HttpSample,
  INSTRUMENTATION_ERRORS_TOTAL,
  type InFlightRequest,
  isSecure,
} from './http/instrumentation.js';
export {
  acceptsGzip,
  type MetricsRequest,
  type MetricsResponse,
  MetricsRoute,
  type MetricsRouteSettings,
  type NodeRequestLike,
  type NodeResponseLike,
  type Scrape,
  serveNodeRequest,
} from './http/metrics-route.js';
export {
  DEFAULT_METRICS_PORT,
  type MetricsServer,
  type MetricsServerAddress,
  type MetricsServerOptions,
  startMetricsServer,
} from './http/metrics-server.js';
export {
  HTTP_METRICS_DEFAULTS,
  type HttpDefaultMetricsOptions,
  type HttpMetricsOptions,
  type HttpSummaryOptions,
  type LatencyMetric,
  type MetricsRouteOptions,
  type ResolvedHttpMetricsOptions,
} from './http/options.js';
export {
  ABORTED_STATUS,
  INVALID_STATUS,
  joinRoute,
  normalizeMethod,
  OTHER_METHOD,
  patternTemplate,
  statusLabel,
  UNMATCHED_ROUTE,
} from './http/route.js';
export { type SetServingOptions, setServing } from './http/serving.js';
export { MemoryStore } from './memory-store.js';
export {
  AGGREGATORS,
  type Aggregator,
  type ChildBase,
  Metric,
  type MetricOptions,
  SERIES_DROPPED_TOTAL,
  type ValueData,
} from './metric.js';
export type {
  NativeHistogramOptions,
  NativeHistogramSettings,
  NativeHistogramSnapshot,
} from './native-histogram.js';
/** Pushgateway client (prom-client's API) for batch jobs: pushes the merged metrics. */
export {
  Pushgateway,
  type PushgatewayAgent,
  type PushgatewayHttpResponse,
  type PushgatewayOptions,
  type PushgatewayParameters,
  type PushgatewayResponse,
  type PushgatewayUrl,
} from './pushgateway.js';
export type { PushgatewayGroupings } from './pushgateway-path.js';
export {
  type AnyMetric,
  contentType,
  openMetricsContentType,
  prometheusContentType,
  Registry,
  type RegistryContentType,
  type RegistryOptions,
  register,
  type ScrapeResult,
  type TextScrapeResult,
} from './registry.js';
export { familyToMetricObject, type SnapshotOptions } from './snapshot.js';
export {
  type Cells,
  COUNTER_VALUE,
  type CollectedFamily,
  type CollectedSeries,
  GAUGE_TIMESTAMP,
  GAUGE_VALUE,
  histogramCountIndex,
  histogramNativeIndex,
  histogramSumIndex,
  type Store,
  SUMMARY_COUNT,
  SUMMARY_SKETCH,
  SUMMARY_SUM,
  seriesSize,
} from './store.js';
export {
  DEFAULT_PERCENTILES,
  Summary,
  SummaryChild,
  type SummaryConfiguration,
} from './summary.js';
export {
  getDefaultTracer,
  Tracer,
  type TracerOptions,
  type TrackedJob,
  trace,
  trackDuration,
} from './tracer.js';
export {
  type Exemplar,
  GAUGE_MODES,
  type GaugeMode,
  type LabelValue,
  type LabelValues,
  type MetricDescriptor,
  type MetricObject,
  type MetricType,
  type MetricValue,
  type SummarySettings,
} from './types.js';
export {
  MAX_LABEL_NAMES,
  MAX_PERCENTILES,
  MAX_SERIES_KEY_BYTES,
  validateLabelName,
  validateMetricName,
} from './validation.js';
