/**
 * Counter: a value that only goes up (prom-client compatible). Slot layout `[value]`.
 */
import type { LabelsInput } from './labels.js';
import {
  type ChildBase,
  COMMON_OPTION_KEYS,
  Metric,
  type MetricOptions,
  type ValueData,
} from './metric.js';
import { type Cells, COUNTER_VALUE } from './store.js';
import type { Exemplar, LabelValue, LabelValues } from './types.js';
import { assertIncrement } from './validation.js';

/** Options of {@link Counter}: the common metric options (see MetricOptions). */
export interface CounterConfiguration<T extends string> extends MetricOptions<T, Counter<T>> {}

/** prom-client 15's `{ labels, value, exemplarLabels }` form of `inc`. */
export interface IncreaseDataWithExemplar<T extends string> extends ValueData<T> {}

/** The child of one label set: `inc` writes straight into the series' cell. */
export class CounterChild implements ChildBase {
  /** The series' slots; replaced by the metric only (see ChildBase.cells). */
  cells: Cells;
  readonly labelValues: readonly string[];
  exemplars?: (Exemplar | undefined)[];
  /**
   * The counter this child belongs to (its name for errors, its exemplars). A `#` field: not
   * enumerable, so a child (and a metric holding children) still serializes without a cycle.
   */
  readonly #owner: Metric<string, CounterChild>;

  /** Made by Counter (`labels()`), not by user code. */
  constructor(cells: Cells, labelValues: readonly string[], owner: Metric<string, CounterChild>) {
    this.cells = cells;
    this.labelValues = labelValues;
    this.#owner = owner;
    if (owner.enableExemplars) this.exemplars = [];
  }

  /** Adds `value` (default 1). Throws for a negative, NaN or infinite value. */
  inc(value?: number): void {
    if (value === undefined) {
      this.cells.add(COUNTER_VALUE, 1);
      return;
    }
    // NaN fails `>= 0`; the slow assert only runs to throw the right error.
    if (typeof value !== 'number' || !(value >= 0 && value !== Number.POSITIVE_INFINITY)) {
      assertIncrement(value, this.#owner.name);
    }
    this.cells.add(COUNTER_VALUE, value);
  }

  /**
   * Adds `value` and keeps an exemplar of it with `exemplarLabels` (a trace id, say): what
   * `counter.inc({ labels, value, exemplarLabels })` does, without looking the series up (the
   * HTTP instrumentation's `exemplarLabels` option records through it). Throws as that form
   * does, recording nothing: PROMFORK_OPERATION_NOT_SUPPORTED without `enableExemplars`,
   * PROMFORK_INVALID_EXEMPLAR for bad labels, and the errors of `inc(value)` for a bad value.
   */
  incWithExemplar(value: number, exemplarLabels: Readonly<Record<string, LabelValue>>): void {
    // No value from plain JavaScript adds 1, as `inc()` and the metric form do: the exemplar
    // must carry that 1, not `undefined` (which OpenMetrics text would print as is).
    const amount = value === undefined ? 1 : value;
    const exemplar = this.#owner.newExemplar(exemplarLabels, amount);
    this.inc(amount);
    this.#owner.keepExemplar(this, 0, exemplar);
  }
}

/**
 * A monotonically increasing counter. `T` is the union of its label names, inferred from
 * `labelNames`, so label objects are checked at compile time.
 */
export class Counter<T extends string = string> extends Metric<T, CounterChild> {
  constructor(configuration: CounterConfiguration<T>) {
    super(configuration as MetricOptions<T, unknown>, COMMON_OPTION_KEYS, () => ({
      type: 'counter',
    }));
  }

  /** Adds `value` (default 1) to the unlabelled series. */
  inc(value?: number): void;
  /** Adds `value` (default 1) to the series of `labels` (exactly the declared labels). */
  inc(labels: LabelValues<T>, value?: number): void;
  /** prom-client 15's form, with an exemplar when `enableExemplars` is on. */
  inc(data: IncreaseDataWithExemplar<T>): void;
  inc(labelsOrValue?: LabelValues<T> | IncreaseDataWithExemplar<T> | number, value?: number): void {
    if (typeof labelsOrValue === 'object' && labelsOrValue !== null) {
      const labels = labelsOrValue as LabelsInput;
      const hit = this.cachedChild(labels);
      if (hit !== undefined) {
        hit.inc(value);
        return;
      }
      const data = value === undefined ? this.asValueData(labels) : undefined;
      if (data === undefined) this.applyTo(labels, incChild, value);
      else this.incData(data);
      return;
    }
    this.unlabelledChild().inc(labelsOrValue);
  }

  protected createChild(cells: Cells, labelValues: readonly string[]): CounterChild {
    return new CounterChild(cells, labelValues, this as Metric<string, CounterChild>);
  }

  private incData(data: IncreaseDataWithExemplar<T>): void {
    const value = data.value ?? 1;
    const exemplarLabels = data.exemplarLabels;
    this.applyToData(
      data,
      (child) => {
        if (exemplarLabels === undefined) child.inc(value);
        else child.incWithExemplar(value, exemplarLabels);
      },
      undefined,
    );
  }
}

/** The update of a labelled `inc` on a cache miss (module-level: see `Metric.applyTo`). */
function incChild(child: CounterChild, value: number | undefined): void {
  child.inc(value);
}
