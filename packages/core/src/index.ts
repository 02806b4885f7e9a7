/**
 * Public API of @promfork/core. Exports by name only (no `export *`), so the surface is
 * visible here and nothing internal leaks by accident.
 */

export { DEFAULT_BUCKETS, exponentialBuckets, linearBuckets } from './buckets.js';
export {
  Counter,
  CounterChild,
  type CounterConfiguration,
  type IncreaseDataWithExemplar,
} from './counter.js';
export { getDefaultStore, setDefaultStore } from './default-store.js';
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
} from './exposition/index.js';
export {
  FileStore,
  type FileStoreOptions,
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
export { MemoryStore } from './memory-store.js';
export {
  AGGREGATORS,
  type Aggregator,
  type ChildBase,
  Metric,
  type MetricOptions,
  type ValueData,
} from './metric.js';
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
export { validateLabelName, validateMetricName } from './validation.js';
