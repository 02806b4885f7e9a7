/**
 * Histogram: observations counted in buckets (prom-client compatible). Slot layout
 * `[b_0 … b_{n-1}, b_+Inf, sum, count]` with buckets NOT cumulative, so processes merge by
 * addition; snapshot.ts makes them cumulative for rendering. With the `nativeHistogram` option a
 * native region follows (layout, recording and merging in native-histogram.ts).
 */
import { assertBuckets, DEFAULT_BUCKETS } from './buckets.js';
import type { LabelsInput } from './labels.js';
import {
  type ChildBase,
  COMMON_OPTION_KEYS,
  Metric,
  type MetricOptions,
  type ValueData,
} from './metric.js';
import {
  type NativeHistogramOptions,
  type NativeHistogramSettings,
  NativeRecorder,
  resolveNativeOption,
} from './native-histogram.js';
import {
  type Cells,
  histogramCountIndex,
  histogramNativeIndex,
  histogramSumIndex,
} from './store.js';
import type { Exemplar, LabelValue, LabelValues } from './types.js';
import { assertFinite } from './validation.js';

/** Options of {@link Histogram}. */
export interface HistogramConfiguration<T extends string> extends MetricOptions<T, Histogram<T>> {
  /**
   * Upper bounds, strictly increasing and finite (`+Inf` is implicit); at most 1000
   * (`MAX_BUCKETS`).
   * @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
   */
  buckets?: readonly number[];
  /**
   * Also keep a native (sparse, exponential-bucket) histogram of every series, with
   * client_golang's options ({@link NativeHistogramOptions}; `true` for all defaults). It is
   * exposed in the protobuf format; text and OpenMetrics show the classic buckets only. With
   * this option and no `buckets`, the histogram has no classic buckets: text shows `+Inf`,
   * `_sum` and `_count` only.
   * @default false
   */
  nativeHistogram?: boolean | NativeHistogramOptions;
}

/** prom-client 15's `{ labels, value, exemplarLabels }` form of `observe`. */
export interface ObserveDataWithExemplar<T extends string> extends ValueData<T> {
  value: number;
}

const HISTOGRAM_OPTION_KEYS: readonly string[] = [
  ...COMMON_OPTION_KEYS,
  'buckets',
  'nativeHistogram',
];

/**
 * Index of the bucket `value` falls in (`bounds.length` is +Inf). Children pass a
 * Float64Array: the buckets array of a descriptor is frozen, and V8 reads the elements of a
 * frozen number array through a slow path (measured here: a linear search over the 11 default
 * buckets took 3-5x longer on the frozen array than on a Float64Array copy).
 */
export function bucketIndex(bounds: ArrayLike<number>, value: number): number {
  const n = bounds.length;
  if (n <= 16) {
    let i = 0;
    while (i < n && value > (bounds[i] as number)) i++;
    return i;
  }
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (value > (bounds[mid] as number)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The child of one label set: `observe` writes straight into the series' cells. */
export class HistogramChild implements ChildBase {
  /** The series' slots; replaced by the metric only (see ChildBase.cells). */
  cells: Cells;
  readonly labelValues: readonly string[];
  exemplars?: (Exemplar | undefined)[];
  private readonly bounds: Float64Array;
  private readonly sumIndex: number;
  private readonly countIndex: number;
  /**
   * The histogram this child belongs to (its name for errors, its exemplars). A `#` field: not
   * enumerable, so a child (and a metric holding children) still serializes without a cycle.
   */
  readonly #owner: Metric<string, HistogramChild>;
  /**
   * Records the native histogram; undefined without the `nativeHistogram` option. Shared with
   * the series' current child when this one re-attaches (see {@link shareNative}).
   */
  private native: NativeRecorder | undefined;

  /** Made by Histogram (`labels()`), not by user code. */
  constructor(
    cells: Cells,
    labelValues: readonly string[],
    bounds: Float64Array,
    owner: Metric<string, HistogramChild>,
    native?: NativeHistogramSettings,
  ) {
    this.cells = cells;
    this.labelValues = labelValues;
    this.bounds = bounds;
    this.sumIndex = histogramSumIndex(bounds.length);
    this.countIndex = histogramCountIndex(bounds.length);
    this.#owner = owner;
    this.native =
      native === undefined
        ? undefined
        : new NativeRecorder(cells, histogramNativeIndex(bounds.length), native);
    if (owner.enableExemplars) this.exemplars = [];
  }

  /** Records one observation (a finite number). Returns nothing. */
  observe(value: number): void {
    this.record(value);
  }

  /**
   * Records `value` and keeps an exemplar of it with `exemplarLabels` (a trace id, say) in its
   * bucket: what `histogram.observe({ labels, value, exemplarLabels })` does, without looking
   * the series up (the HTTP instrumentation's `exemplarLabels` option records through it).
   * Throws as that form does, recording nothing: PROMFORK_OPERATION_NOT_SUPPORTED without
   * `enableExemplars`, PROMFORK_INVALID_EXEMPLAR for bad labels, PROMFORK_INVALID_VALUE for a
   * bad value.
   */
  observeWithExemplar(value: number, exemplarLabels: Readonly<Record<string, LabelValue>>): void {
    const exemplar = this.#owner.newExemplar(exemplarLabels, value);
    const index = this.record(value);
    this.#owner.keepExemplar(this, index, exemplar);
  }

  /** Starts a timer; the returned function observes the elapsed seconds and returns them. */
  startTimer(): () => number {
    const start = performance.now();
    return () => {
      const seconds = (performance.now() - start) / 1000;
      this.record(seconds);
      return seconds;
    };
  }

  /**
   * @internal Records the native histogram through `current`'s recorder, which writes into the
   * cells this child now shares with it (Histogram re-attaches a child held across a drop).
   */
  shareNative(current: HistogramChild): void {
    this.native = current.native;
  }

  /** Records `value` and returns the index of its bucket. */
  record(value: number): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      assertFinite(value, 'observation', this.#owner.name);
    }
    const index = bucketIndex(this.bounds, value);
    const cells = this.cells;
    cells.add(index, 1);
    cells.add(this.sumIndex, value);
    cells.add(this.countIndex, 1);
    this.native?.observe(value);
    return index;
  }
}

/** Observations counted in buckets. `T` is the union of its label names. */
export class Histogram<T extends string = string> extends Metric<T, HistogramChild> {
  /** The upper bounds (without +Inf). */
  readonly buckets: readonly number[];
  /** The bounds as the children search them (see bucketIndex); one copy per metric. */
  declare private bounds: Float64Array | undefined;

  constructor(configuration: HistogramConfiguration<T>) {
    super(configuration as MetricOptions<T, unknown>, HISTOGRAM_OPTION_KEYS, (options) => {
      const native = resolveNativeOption(options.nativeHistogram, 'new Histogram()');
      return {
        type: 'histogram',
        // A native histogram needs no classic buckets: without `buckets` it has none.
        buckets:
          options.buckets === undefined
            ? native === undefined
              ? DEFAULT_BUCKETS
              : []
            : assertBuckets(options.buckets, `new Histogram() "${String(options.name)}"`),
        ...(native === undefined ? {} : { native }),
      };
    });
    this.buckets = this.descriptor.buckets;
  }

  /** Observes `value` in the unlabelled series. */
  observe(value: number): void;
  /** Observes `value` in the series of `labels`. */
  observe(labels: LabelValues<T>, value: number): void;
  /** prom-client 15's form, with an exemplar when `enableExemplars` is on. */
  observe(data: ObserveDataWithExemplar<T>): void;
  observe(
    labelsOrValue: LabelValues<T> | ObserveDataWithExemplar<T> | number,
    value?: number,
  ): void {
    if (typeof labelsOrValue === 'object' && labelsOrValue !== null) {
      const labels = labelsOrValue as LabelsInput;
      const hit = this.cachedChild(labels);
      if (hit !== undefined) {
        hit.record(value as number);
        return;
      }
      const data = value === undefined ? this.asValueData(labels) : undefined;
      if (data === undefined) this.applyTo(labels, recordIn, value as number);
      else this.observeData(data, data.value as number);
      return;
    }
    this.unlabelledChild().record(labelsOrValue);
  }

  /**
   * Starts a timer; the returned function observes the elapsed seconds for the start labels
   * merged with the end labels (and exemplar labels when exemplars are on) and returns them.
   */
  startTimer(
    labels?: Partial<LabelValues<T>>,
    exemplarLabels?: Readonly<Record<string, LabelValue>>,
  ): (
    labels?: Partial<LabelValues<T>>,
    exemplarLabels?: Readonly<Record<string, LabelValue>>,
  ) => number {
    const start = performance.now();
    return (endLabels, endExemplarLabels) => {
      const seconds = (performance.now() - start) / 1000;
      const merged = (endLabels === undefined ? labels : { ...labels, ...endLabels }) as
        | LabelValues<T>
        | undefined;
      const exemplar =
        exemplarLabels === undefined && endExemplarLabels === undefined
          ? undefined
          : { ...exemplarLabels, ...endExemplarLabels };
      this.observeData({ labels: merged, value: seconds, exemplarLabels: exemplar }, seconds);
      return seconds;
    };
  }

  protected createChild(cells: Cells, labelValues: readonly string[]): HistogramChild {
    // Runs from the base constructor too, before field initialisers: hence `declare` below.
    this.bounds ??= Float64Array.from(this.descriptor.buckets);
    return new HistogramChild(
      cells,
      labelValues,
      this.bounds,
      this as Metric<string, HistogramChild>,
      this.descriptor.native,
    );
  }

  protected override share(child: HistogramChild, current: HistogramChild): void {
    super.share(child, current);
    child.shareNative(current);
  }

  private observeData(data: ValueData<T>, value: number): void {
    const exemplarLabels = data.exemplarLabels;
    this.applyToData(
      data,
      (child) => {
        if (exemplarLabels === undefined) child.record(value);
        else child.observeWithExemplar(value, exemplarLabels);
      },
      undefined,
    );
  }
}

/** The update of a labelled `observe` on a cache miss (module-level: see `Metric.applyTo`). */
function recordIn(child: HistogramChild, value: number): void {
  child.record(value);
}
