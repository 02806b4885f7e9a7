/**
 * The cells a child holds once its series was dropped (`remove`, `reset`, `resetMetrics`, the
 * metric's removal from its registries or its return to one), so that a child a caller kept
 * from `labels(...)` behaves as in prom-client: its next update lands in the metric's current
 * series of those label values, created again from zero when missing.
 *
 * Why cells and not a check in the child: the metric swaps a dropped child's cells for these
 * when it drops the series, so the children's update methods stay as they are (one slot
 * addition for a counter's `inc`) and pay nothing while no series is dropped. The first access
 * asks the metric for the current series' cells, which the metric also installs in the child,
 * and every later access through this object (an update that read `child.cells` once and
 * writes several slots) goes there too.
 *
 * A child of a label set `maxSeries` dropped holds such cells too, made at a given count of
 * the metric's series drops: its updates go nowhere, at no cost, until a later drop may have
 * made room; the next update then asks the metric again (counted as a drop again while the
 * metric is still full).
 */
import type { Cells } from './store.js';

/** Who finds the current cells of a dropped child: its metric. */
export interface CellsReattacher<C> {
  /**
   * Makes `child` write into the current series of its label values (created when missing)
   * and returns that series' cells; cells that drop writes when the series cannot be kept
   * (the metric's `maxSeries`). Never throws.
   */
  reattach(child: C): Cells;
  /** How many times the metric dropped series so far (`remove`, `reset`, ...). */
  seriesDrops(): number;
  /** Cells that drop writes and read 0. */
  readonly nowhere: Cells;
}

/**
 * Cells that re-attach their child on first access; see the module comment. `#` fields: the
 * child holds these cells, so enumerable fields would make a cycle for JSON.stringify.
 */
export class ReattachingCells<C> implements Cells {
  readonly #metric: CellsReattacher<C>;
  readonly #child: C;
  #target: Cells | undefined;
  /** For a label set `maxSeries` dropped: the metric's seriesDrops() then; else -1. */
  readonly #droppedAt: number;

  /**
   * @param droppedAt for a child of a label set `maxSeries` dropped: the metric's
   *   `seriesDrops()` at that time (writes go nowhere until it changes)
   */
  constructor(metric: CellsReattacher<C>, child: C, droppedAt = -1) {
    this.#metric = metric;
    this.#child = child;
    this.#droppedAt = droppedAt;
  }

  /**
   * True while these cells stand for a label set `maxSeries` dropped and the metric dropped no
   * series since (so there is no room for it yet).
   */
  get dropped(): boolean {
    return this.#target === undefined && this.#droppedAt === this.#metric.seriesDrops();
  }

  add(index: number, delta: number): void {
    this.current().add(index, delta);
  }

  set(index: number, value: number): void {
    this.current().set(index, value);
  }

  get(index: number): number {
    return this.current().get(index);
  }

  private current(): Cells {
    if (this.#target !== undefined) return this.#target;
    if (this.#droppedAt === this.#metric.seriesDrops()) return this.#metric.nowhere;
    this.#target = this.#metric.reattach(this.#child);
    return this.#target;
  }
}
