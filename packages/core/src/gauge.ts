/**
 * Gauge: a value that goes up and down (prom-client compatible). Slot layout
 * `[value, timestampMs]`; the timestamp is written by the `mostrecent` modes only, which is how
 * a multi-process store picks the latest `set` across processes.
 */
import { InvalidOptionError } from './errors.js';
import type { LabelsInput } from './labels.js';
import {
  type Aggregator,
  type ChildBase,
  COMMON_OPTION_KEYS,
  Metric,
  type MetricOptions,
} from './metric.js';
import { type Cells, GAUGE_TIMESTAMP, GAUGE_VALUE } from './store.js';
import { GAUGE_MODES, type GaugeMode, type LabelValues } from './types.js';
import { assertFinite, invalidOption } from './validation.js';

/** Options of {@link Gauge}. */
export interface GaugeConfiguration<T extends string> extends MetricOptions<T, Gauge<T>> {
  /**
   * How processes' values merge in multi-process mode (client_python's names); no effect with
   * one process. `mostrecent`/`livemostrecent` gauges only support `set` (no inc/dec).
   * @default from `aggregator` when given (sum->sum, min->min, max->max, first->max,
   *   omit->liveall, average->liveall), else 'all'
   */
  multiprocessMode?: GaugeMode;
}

/** Maps prom-client's cluster aggregator onto a gauge mode (see GaugeConfiguration). */
export const AGGREGATOR_MODES: Readonly<Record<Aggregator, GaugeMode>> = {
  sum: 'sum',
  min: 'min',
  max: 'max',
  // prom-client's `first` is for values every worker shares (version info): max reports it
  // once without needing timestamps, and keeps inc/dec working.
  first: 'max',
  // Not aggregated (omit) or averaged: one series per live process, average in PromQL.
  omit: 'liveall',
  average: 'liveall',
};

const GAUGE_OPTION_KEYS: readonly string[] = [...COMMON_OPTION_KEYS, 'multiprocessMode'];

/** The child of one label set: its methods write straight into the series' cells. */
export class GaugeChild implements ChildBase {
  /** The series' slots; replaced by the metric only (see ChildBase.cells). */
  cells: Cells;
  readonly labelValues: readonly string[];
  private readonly metric: string;
  private readonly mostRecent: boolean;

  /** Made by Gauge (`labels()`), not by user code. */
  constructor(cells: Cells, labelValues: readonly string[], metric: string, mostRecent: boolean) {
    this.cells = cells;
    this.labelValues = labelValues;
    this.metric = metric;
    this.mostRecent = mostRecent;
  }

  /** Adds `value` (default 1). Not supported by the `mostrecent` modes. */
  inc(value?: number): void {
    this.add(value === undefined ? 1 : value, 'increment');
  }

  /** Subtracts `value` (default 1). Not supported by the `mostrecent` modes. */
  dec(value?: number): void {
    if (value === undefined) this.add(-1, 'decrement');
    else if (typeof value !== 'number') assertFinite(value, 'decrement', this.metric);
    else this.add(-value, 'decrement');
  }

  /** Sets the gauge to `value` (a finite number). */
  set(value: number): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      assertFinite(value, 'gauge value', this.metric);
    }
    // One read of `cells`: a held child's re-attaching cells ask the metric once per read, and
    // a second read where that fails (maxSeries) would count this one set as two drops.
    const cells = this.cells;
    cells.set(GAUGE_VALUE, value);
    if (this.mostRecent) cells.set(GAUGE_TIMESTAMP, Date.now());
  }

  /** Sets the gauge to the current Unix time in seconds. */
  setToCurrentTime(): void {
    this.set(Date.now() / 1000);
  }

  /** Starts a timer; the returned function sets the gauge to the elapsed seconds and returns them. */
  startTimer(): () => number {
    const start = performance.now();
    return () => {
      const seconds = (performance.now() - start) / 1000;
      this.set(seconds);
      return seconds;
    };
  }

  private add(delta: number, what: string): void {
    if (typeof delta !== 'number' || !Number.isFinite(delta)) {
      assertFinite(delta, what, this.metric);
    }
    if (this.mostRecent) {
      throw new InvalidOptionError(
        'PROMFORK_OPERATION_NOT_SUPPORTED',
        `Gauge "${this.metric}" uses a mostrecent multiprocessMode, which only supports set(); ` +
          `got an ${what} of ${delta}`,
      );
    }
    this.cells.add(GAUGE_VALUE, delta);
  }
}

/** A value that can go up and down. `T` is the union of its label names. */
export class Gauge<T extends string = string> extends Metric<T, GaugeChild> {
  /** How this gauge merges across processes. */
  readonly multiprocessMode: GaugeMode;

  constructor(configuration: GaugeConfiguration<T>) {
    super(configuration as MetricOptions<T, unknown>, GAUGE_OPTION_KEYS, (options) => ({
      type: 'gauge',
      mode: gaugeMode(options),
    }));
    this.multiprocessMode = this.descriptor.mode;
  }

  /** Adds `value` (default 1) to the unlabelled series. */
  inc(value?: number): void;
  /** Adds `value` (default 1) to the series of `labels`. */
  inc(labels: LabelValues<T>, value?: number): void;
  inc(labelsOrValue?: LabelValues<T> | number, value?: number): void {
    const delta = typeof labelsOrValue === 'object' ? value : labelsOrValue;
    const child = this.resolve(labelsOrValue);
    if (child !== undefined) child.inc(delta);
    else this.applyTo(labelsOrValue as LabelsInput, incChild, delta);
  }

  /** Subtracts `value` (default 1) from the unlabelled series. */
  dec(value?: number): void;
  /** Subtracts `value` (default 1) from the series of `labels`. */
  dec(labels: LabelValues<T>, value?: number): void;
  dec(labelsOrValue?: LabelValues<T> | number, value?: number): void {
    const delta = typeof labelsOrValue === 'object' ? value : labelsOrValue;
    const child = this.resolve(labelsOrValue);
    if (child !== undefined) child.dec(delta);
    else this.applyTo(labelsOrValue as LabelsInput, decChild, delta);
  }

  /** Sets the unlabelled series. */
  set(value: number): void;
  /** Sets the series of `labels`. */
  set(labels: LabelValues<T>, value: number): void;
  set(labelsOrValue: LabelValues<T> | number, value?: number): void {
    const next = (typeof labelsOrValue === 'object' ? value : labelsOrValue) as number;
    const child = this.resolve(labelsOrValue);
    if (child !== undefined) child.set(next);
    else this.applyTo(labelsOrValue as LabelsInput, setChild, next);
  }

  /** Sets the series (of `labels`, if given) to the current Unix time in seconds. */
  setToCurrentTime(labels?: LabelValues<T>): void {
    const child = this.resolve(labels);
    if (child !== undefined) child.setToCurrentTime();
    else this.applyTo(labels as LabelsInput, setChildToNow, undefined);
  }

  /**
   * Starts a timer; the returned function sets the gauge (for the start labels merged with the
   * end labels) to the elapsed seconds and returns them.
   */
  startTimer(labels?: Partial<LabelValues<T>>): (labels?: Partial<LabelValues<T>>) => number {
    return this.timer(labels, (child, seconds) => child.set(seconds));
  }

  protected createChild(cells: Cells, labelValues: readonly string[]): GaugeChild {
    const mode = this.descriptor.mode;
    return new GaugeChild(
      cells,
      labelValues,
      this.name,
      mode === 'mostrecent' || mode === 'livemostrecent',
    );
  }

  /**
   * The cached child of `labels`, or the unlabelled child when no labels object is given;
   * undefined on a cache miss, which the caller sends through `applyTo`.
   */
  private resolve(labels: LabelValues<T> | number | undefined): GaugeChild | undefined {
    if (typeof labels === 'object' && labels !== null) {
      return this.cachedChild(labels as LabelsInput);
    }
    return this.unlabelledChild();
  }
}

function gaugeMode(options: Record<string, unknown>): GaugeMode {
  const mode = options.multiprocessMode;
  if (mode !== undefined) {
    if (!GAUGE_MODES.includes(mode as GaugeMode)) {
      invalidOption('new Gauge()', 'multiprocessMode', mode, `one of ${GAUGE_MODES.join(', ')}`);
    }
    return mode as GaugeMode;
  }
  const aggregator = options.aggregator;
  if (aggregator !== undefined && Object.hasOwn(AGGREGATOR_MODES, aggregator as string)) {
    return AGGREGATOR_MODES[aggregator as Aggregator];
  }
  return 'all';
}

// The updates of labelled calls on a cache miss (module-level: see `Metric.applyTo`).
function incChild(child: GaugeChild, delta: number | undefined): void {
  child.inc(delta);
}

function decChild(child: GaugeChild, delta: number | undefined): void {
  child.dec(delta);
}

function setChild(child: GaugeChild, value: number): void {
  child.set(value);
}

function setChildToNow(child: GaugeChild): void {
  child.setToCurrentTime();
}
