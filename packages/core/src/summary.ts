/**
 * Summary: observations with quantiles over a sliding window (prom-client compatible options).
 * Slot layout `[sum, count, …sketch windows]`: the quantile sketch (sketch.ts) lives in the
 * series' slots, so processes merge by addition and quantiles are computed at scrape time from
 * the merged sketch (relative error <= 1%).
 */
import { describeValue, InvalidOptionError } from './errors.js';
import type { LabelsInput } from './labels.js';
import { type ChildBase, COMMON_OPTION_KEYS, Metric, type MetricOptions } from './metric.js';
import {
  SKETCH_MAX_AGE_BUCKETS,
  SKETCH_MIN_WINDOW_MS,
  sketchObserve,
  sketchWindowCount,
} from './sketch.js';
import { type Cells, SUMMARY_COUNT, SUMMARY_SKETCH, SUMMARY_SUM } from './store.js';
import type { LabelValues, SummarySettings } from './types.js';
import { assertFinite, invalidOption, MAX_PERCENTILES } from './validation.js';

/** prom-client's default summary percentiles. */
export const DEFAULT_PERCENTILES: readonly number[] = Object.freeze([
  0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999,
]);

/** Options of {@link Summary}. */
export interface SummaryConfiguration<T extends string> extends MetricOptions<T, Summary<T>> {
  /**
   * Quantiles to report, each in [0, 1]; at most 100 (`MAX_PERCENTILES`).
   * @default [0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999]
   */
  percentiles?: readonly number[];
  /**
   * Width of the sliding window in seconds; 0 means since start (no window). Otherwise each
   * of the `ageBuckets` sub-windows must span at least 1 ms (Date.now()'s resolution).
   * @default 0 (prom-client: no window unless set)
   */
  maxAgeSeconds?: number;
  /**
   * Number of sub-windows the window rotates through, an integer from 1 to 1000; only
   * meaningful with maxAgeSeconds (but checked either way).
   * @default 5 when maxAgeSeconds is set, else 1
   */
  ageBuckets?: number;
  /** Accepted for prom-client compatibility; the sketch always reports NaN for an empty window. */
  pruneAgedBuckets?: boolean;
  /** Accepted for prom-client compatibility; the sketch needs no compression. */
  compressCount?: number;
}

const SUMMARY_OPTION_KEYS: readonly string[] = [
  ...COMMON_OPTION_KEYS,
  'percentiles',
  'maxAgeSeconds',
  'ageBuckets',
  'pruneAgedBuckets',
  'compressCount',
];

/** The child of one label set: `observe` writes straight into the series' cells. */
export class SummaryChild implements ChildBase {
  /** The series' slots; replaced by the metric only (see ChildBase.cells). */
  cells: Cells;
  readonly labelValues: readonly string[];
  private readonly settings: SummarySettings;
  private readonly metric: string;

  /** Made by Summary (`labels()`), not by user code. */
  constructor(
    cells: Cells,
    labelValues: readonly string[],
    settings: SummarySettings,
    metric: string,
  ) {
    this.cells = cells;
    this.labelValues = labelValues;
    this.settings = settings;
    this.metric = metric;
  }

  /** Records one observation (a finite number). */
  observe(value: number): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      assertFinite(value, 'observation', this.metric);
    }
    const cells = this.cells;
    cells.add(SUMMARY_SUM, value);
    cells.add(SUMMARY_COUNT, 1);
    sketchObserve(cells, SUMMARY_SKETCH, this.settings, value, Date.now());
  }

  /** Starts a timer; the returned function observes the elapsed seconds and returns them. */
  startTimer(): () => number {
    const start = performance.now();
    return () => {
      const seconds = (performance.now() - start) / 1000;
      this.observe(seconds);
      return seconds;
    };
  }
}

/** Observations with sliding-window quantiles. `T` is the union of its label names. */
export class Summary<T extends string = string> extends Metric<T, SummaryChild> {
  /** Quantiles reported. */
  readonly percentiles: readonly number[];

  constructor(configuration: SummaryConfiguration<T>) {
    super(configuration as MetricOptions<T, unknown>, SUMMARY_OPTION_KEYS, (options) => ({
      type: 'summary',
      summary: summarySettings(options),
    }));
    this.percentiles = (this.descriptor.summary as SummarySettings).percentiles;
  }

  /** Observes `value` in the unlabelled series. */
  observe(value: number): void;
  /** Observes `value` in the series of `labels`. */
  observe(labels: LabelValues<T>, value: number): void;
  observe(labelsOrValue: LabelValues<T> | number, value?: number): void {
    if (typeof labelsOrValue === 'object' && labelsOrValue !== null) {
      const labels = labelsOrValue as LabelsInput;
      const hit = this.cachedChild(labels);
      if (hit !== undefined) hit.observe(value as number);
      else this.applyTo(labels, observeIn, value as number);
      return;
    }
    this.unlabelledChild().observe(labelsOrValue);
  }

  /**
   * Starts a timer; the returned function observes the elapsed seconds for the start labels
   * merged with the end labels and returns them.
   */
  startTimer(labels?: Partial<LabelValues<T>>): (labels?: Partial<LabelValues<T>>) => number {
    return this.timer(labels, (child, seconds) => child.observe(seconds));
  }

  protected createChild(cells: Cells, labelValues: readonly string[]): SummaryChild {
    return new SummaryChild(
      cells,
      labelValues,
      this.descriptor.summary as SummarySettings,
      this.name,
    );
  }
}

function summarySettings(options: Record<string, unknown>): SummarySettings {
  const where = 'new Summary()';
  const percentiles = options.percentiles ?? DEFAULT_PERCENTILES;
  if (
    !Array.isArray(percentiles) ||
    !percentiles.every((p) => typeof p === 'number' && p >= 0 && p <= 1)
  ) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_PERCENTILES',
      `${where}: invalid percentiles ${describeValue(percentiles)}` +
        (Array.isArray(percentiles)
          ? ` (bad entry ${describeValue(percentiles.find((p) => !(typeof p === 'number' && p >= 0 && p <= 1)))})`
          : '') +
        ': expected an array of numbers in [0, 1]',
    );
  }
  if (percentiles.length > MAX_PERCENTILES) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_PERCENTILES',
      `${where}: ${percentiles.length} percentiles: expected at most ${MAX_PERCENTILES}`,
    );
  }
  const maxAgeSeconds = options.maxAgeSeconds ?? 0;
  if (typeof maxAgeSeconds !== 'number' || !Number.isFinite(maxAgeSeconds) || maxAgeSeconds < 0) {
    invalidOption(where, 'maxAgeSeconds', maxAgeSeconds, 'a finite number of seconds >= 0');
  }
  const ageBuckets = options.ageBuckets ?? (maxAgeSeconds > 0 ? 5 : 1);
  // The sketch's bound, checked here too (even when maxAgeSeconds is 0 and the value is unused)
  // so a bad value fails in the constructor, before the store sees the metric.
  if (
    typeof ageBuckets !== 'number' ||
    !Number.isInteger(ageBuckets) ||
    ageBuckets < 1 ||
    ageBuckets > SKETCH_MAX_AGE_BUCKETS
  ) {
    invalidOption(
      where,
      'ageBuckets',
      ageBuckets,
      `an integer from 1 to ${SKETCH_MAX_AGE_BUCKETS}`,
    );
  }
  if (options.pruneAgedBuckets !== undefined && typeof options.pruneAgedBuckets !== 'boolean') {
    invalidOption(where, 'pruneAgedBuckets', options.pruneAgedBuckets, 'a boolean');
  }
  if (
    options.compressCount !== undefined &&
    (typeof options.compressCount !== 'number' || !Number.isFinite(options.compressCount))
  ) {
    invalidOption(where, 'compressCount', options.compressCount, 'a number');
  }
  if (maxAgeSeconds > 0 && (maxAgeSeconds * 1000) / ageBuckets < SKETCH_MIN_WINDOW_MS) {
    invalidOption(
      where,
      'maxAgeSeconds',
      maxAgeSeconds,
      `0 or at least ${(ageBuckets * SKETCH_MIN_WINDOW_MS) / 1000} seconds, so each of the ` +
        `${ageBuckets} age buckets spans at least ${SKETCH_MIN_WINDOW_MS} ms`,
    );
  }
  const settings: SummarySettings = Object.freeze({
    percentiles: Object.freeze([...(percentiles as number[])]),
    maxAgeSeconds,
    ageBuckets: maxAgeSeconds > 0 ? ageBuckets : 1,
  });
  // Every check the sketch makes has been made above; this keeps the two from drifting apart
  // (a new sketch rule fails here, in the constructor, rather than at the first update).
  sketchWindowCount(settings);
  return settings;
}

/** The update of a labelled `observe` on a cache miss (module-level: see `Metric.applyTo`). */
function observeIn(child: SummaryChild, value: number): void {
  child.observe(value);
}
