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
