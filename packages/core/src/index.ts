/**
 * Public API of @promfork/core. Exports by name only (no `export *`), so the surface is
 * visible here and nothing internal leaks by accident.
 */
export {
  AlreadyRegisteredError,
  ERROR_CODES,
  type ErrorCode,
  InvalidOptionError,
  InvalidValueError,
  LabelSetError,
  PromforkError,
  StoreError,
} from './errors.js';
export {
  type ExpositionFormat,
  formatOpenMetrics,
  formatText,
  negotiateFormat,
  OPENMETRICS_CONTENT_TYPE,
  OPENMETRICS_FORMAT,
  PROMETHEUS_CONTENT_TYPE,
  PROMETHEUS_FORMAT,
} from './exposition/index.js';
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
} from './http/instrumentation.js';
export {
  acceptsGzip,
  type MetricsRequest,
  type MetricsResponse,
  MetricsRoute,
  type MetricsRouteSettings,
  type Scrape,
} from './http/metrics-route.js';
export {
  HTTP_METRICS_DEFAULTS,
  type HttpMetricsOptions,
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
export type { Cells, CollectedFamily, CollectedSeries, Store } from './store.js';
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
