/**
 * Types shared by metrics, stores and exposition. Plain data only: no behaviour lives here.
 */
import type { NativeHistogramSettings } from './native-histogram.js';

/** The four Prometheus metric types promfork implements. */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

/**
 * How a gauge's per-process values merge in multi-process mode (client_python's names).
 * `all`/`liveall` keep one series per process with a `pid` label; the `live*` modes drop a
 * process's values once it is dead. No effect with a single process (MemoryStore).
 */
export type GaugeMode =
  | 'all'
  | 'liveall'
  | 'sum'
  | 'livesum'
  | 'min'
  | 'livemin'
  | 'max'
  | 'livemax'
  | 'mostrecent'
  | 'livemostrecent';

/** Every gauge mode, in documentation order. */
export const GAUGE_MODES: readonly GaugeMode[] = [
  'all',
  'liveall',
  'sum',
  'livesum',
  'min',
  'livemin',
  'max',
  'livemax',
  'mostrecent',
  'livemostrecent',
];

/** A label value as accepted from users: strings and finite numbers (rendered with String()). */
export type LabelValue = string | number;

/** Label values keyed by label name; `T` narrows the allowed names. */
export type LabelValues<T extends string = string> = { [K in T]: LabelValue };

/** Settings of a summary's sliding window and quantiles. */
export interface SummarySettings {
  /** Quantiles to report, each in [0, 1]. */
  readonly percentiles: readonly number[];
  /** Width of the sliding window in seconds; 0 means "since start" (no window). */
  readonly maxAgeSeconds: number;
  /** Number of rotating sub-windows the window is divided into (>= 1). */
  readonly ageBuckets: number;
}

/**
 * Immutable description of a metric: everything a store (or another process reading a file)
 * needs to lay out, merge and render it without the metric object.
 */
export interface MetricDescriptor {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  /** Declared label names, in declaration order. Label values are always passed in this order. */
  readonly labelNames: readonly string[];
  /** Histogram upper bounds, sorted, finite, without +Inf. Empty for other types. */
  readonly buckets: readonly number[];
  /** Gauge merge mode; `sum` for counters, histograms and summaries (they always add). */
  readonly mode: GaugeMode;
  /** Summary window and quantiles; undefined for other types. */
  readonly summary?: SummarySettings;
  /** Native histogram settings of a histogram with the `nativeHistogram` option; else undefined. */
  readonly native?: NativeHistogramSettings;
}

/** An exemplar attached to a counter increment or a histogram bucket (OpenMetrics only). */
export interface Exemplar {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Unix time in seconds. */
  readonly timestamp?: number;
}

/** One sample as prom-client's `get()` returns it, and as exposition consumes it. */
export interface MetricValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, LabelValue>>;
  /** Full sample name when it differs from the family name (`x_bucket`, `x_sum`, `x_count`). */
  readonly metricName?: string;
  /** Milliseconds since the epoch; rendered only where the format allows it. */
  readonly timestamp?: number;
  readonly exemplar?: Exemplar;
}

/** A metric family as prom-client's `get()` returns it. */
export interface MetricObject {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly values: readonly MetricValue[];
  /** prom-client's aggregator name for the family, kept for `getMetricsAsJSON()` compatibility. */
  readonly aggregator: string;
  /**
   * Unit of the family (`seconds`, `bytes`), rendered as OpenMetrics `# UNIT` when the family
   * name ends with `_<unit>` (the spec requires that suffix). Absent for most metrics.
   */
  readonly unit?: string;
}
