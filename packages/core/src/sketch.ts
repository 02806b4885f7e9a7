/**
 * Mergeable quantile sketch for summaries (DDSketch-style, relative error <= 1%), stored in a
 * summary series' slots so that processes merge by addition. OWNED BY THE SKETCH WORK: the
 * signatures below are the contract the Summary metric, the stores and compaction code against.
 */
import type { Cells } from './store.js';
import type { SummarySettings } from './types.js';

/** Slots all sketch windows of one summary series take. */
export function sketchSize(settings: SummarySettings): number {
  void settings;
  throw new Error('sketch: not implemented yet');
}

/** Records `value` at time `nowMs` into the windows that start at slot `base` of `cells`. */
export function sketchObserve(
  cells: Cells,
  base: number,
  settings: SummarySettings,
  value: number,
  nowMs: number,
): void {
  void cells;
  void base;
  void settings;
  void value;
  void nowMs;
  throw new Error('sketch: not implemented yet');
}

/**
 * Merges the sketch windows (at slot `base`) of several series of one summary, typically one
 * per process, and returns one value per `settings.percentiles` entry (NaN when no
 * observation falls in the current window).
 */
export function sketchQuantiles(
  series: readonly ArrayLike<number>[],
  base: number,
  settings: SummarySettings,
  nowMs: number,
): number[] {
  void series;
  void base;
  void settings;
  void nowMs;
  throw new Error('sketch: not implemented yet');
}

/**
 * Adds the windows of `src` into `dst` (both at slot `base`), keeping only windows still
 * inside the sliding window at `nowMs`. Used by compaction to fold a dead process in.
 */
export function sketchMergeInto(
  dst: Float64Array,
  src: ArrayLike<number>,
  base: number,
  settings: SummarySettings,
  nowMs: number,
): void {
  void dst;
  void src;
  void base;
  void settings;
  void nowMs;
  throw new Error('sketch: not implemented yet');
}
