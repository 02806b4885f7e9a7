/**
 * The store contract: the only thing metric classes know about where numbers live.
 *
 * A metric asks its store for the {@link Cells} of one series (a fixed number of float64
 * slots laid out as {@link seriesSize} says) and from then on reads and writes slots by
 * index; it never learns whether they are in a plain array (MemoryStore) or in an image of a
 * file shared with other processes (FileStore). Scraping asks the store to {@link Store.collect}
 * every family it can see, merged across processes where the store spans several.
 *
 * Every store MUST:
 * - return the same Cells object for the same (metric name, label values) until `remove` or
 *   `reset` drops that series, and new zeroed cells after that;
 * - make a write through Cells visible to `get` at once and to `collect` in the same process
 *   at once (a FileStore may publish to other processes at the end of the event-loop turn);
 * - never throw from `add`/`set`/`get` (they sit on users' hot paths);
 * - return from `collect` every declared metric, including those with no series yet;
 * - report values in `collect` with the same layout the metric wrote them in.
 * The conformance suite in `packages/core/test/store-conformance.ts` checks these rules and
 * runs against every store.
 */
import type { NativeHistogramSnapshot } from './native-histogram.js';
import { nativeSlotCount, nativeSnapshot } from './native-histogram.js';
import { SKETCH_MAX_AGE_BUCKETS, SKETCH_WINDOW_SLOTS, sketchSize } from './sketch.js';
import type { Exemplar, MetricDescriptor } from './types.js';

/**
 * The slots of one series. Indices are those of {@link seriesSize} for the series' metric.
 * Implementations must be cheap: these calls are the hot path of every `inc` and `observe`.
 */
export interface Cells {
  /** Adds `delta` to slot `index`. */
  add(index: number, delta: number): void;
  /** Sets slot `index` to `value`. */
  set(index: number, value: number): void;
  /** Reads slot `index`. */
  get(index: number): number;
}

/** One series as collected for rendering, already merged across processes. */
export interface CollectedSeries {
  /**
   * Values of the declared label names, in declaration order. Never mutated once handed out:
   * a renderer keeps what it derived from them (escaped line prefixes) by this array's
   * identity (render.ts), so a store must not refill one array for another series.
   */
  readonly labelValues: readonly string[];
  /**
   * Labels the store adds after the declared ones (the `pid` of `all`/`liveall` gauges in
   * multi-process mode). Absent when there are none.
   */
  readonly extraLabels?: Readonly<Record<string, string>>;
  /** The series' slots, `seriesSize(descriptor)` long. */
  readonly cells: ArrayLike<number>;
  /**
   * The native histogram of a histogram series whose descriptor has `native` settings (decoded
   * from the native slots by `collectedSeries`, on first read); absent otherwise.
   */
  readonly native?: NativeHistogramSnapshot;
  /**
   * The latest exemplar per exemplar slot (a counter's 0, a histogram's bucket index, `+Inf`
   * last) among the processes merged, where a store keeps exemplars (the FileStore); absent
   * when none was recorded.
   */
  readonly exemplars?: readonly (Exemplar | undefined)[];
  /**
   * Where a renderer may keep what it derives from `labelValues` (their escaped text), for
   * series objects a store hands out again at every collect (a FileStore's merged series):
   * one property read instead of a look-up per series and scrape. Stores only initialise it.
   */
  renderCache?: unknown;
  /**
   * The series key of {@link labelValues} when it is *plain* (a FileStore's merged series
   * read from a file): renderers write the label text straight from it instead of asking
   * for `labelValues`, which such a series splits from this key only when first asked.
   */
  readonly plainKey?: PlainSeriesKey | undefined;
}

/**
 * A series key (file-store/format.ts `seriesKey`) without escapes: `["v1","v2"]` (or `[]`),
 * whose values hold no `\`, no `"` and no control character, so that they are their own
 * exposition text (escape.ts escapes only `\`, `"` and line feed). The object stands for its
 * series' `labelValues` as long as the series exists: renderers may key what they keep on it.
 */
export interface PlainSeriesKey {
  /** The key text. */
  readonly key: string;
}

/** One metric family as collected for rendering. */
export interface CollectedFamily {
  readonly descriptor: MetricDescriptor;
  readonly series: readonly CollectedSeries[];
  /**
   * True when some series carries `exemplars` (a store that keeps them sets it), so that
   * renderers look exemplars up per series only then.
   */
  readonly hasExemplars?: boolean;
}

/** Where metric values live. See the module comment for the rules every store follows. */
export interface Store {
  /** `memory` or `file`; informational. */
  readonly kind: string;
  /**
   * True when the store keys families by metric name, so that two metric objects of one name
   * (and definition) share their series, as in a FileStore, whose files hold one family per
   * name. Metric objects then pass each other's drops on (declarations.ts). Absent or false:
   * families are keyed by descriptor object and such objects stay independent (MemoryStore).
   */
  readonly sharesSeriesByName?: boolean;
  /**
   * Makes a metric known to the store (idempotent for an equal descriptor). A FileStore records
   * the descriptor so other processes can render the metric without declaring it.
   */
  declare(descriptor: MetricDescriptor): void;
  /** Returns the cells of one series, creating zeroed cells on first use. */
  series(descriptor: MetricDescriptor, labelValues: readonly string[]): Cells;
  /**
   * Keeps `exemplar` as the latest of slot `slot` (0 for a counter, the bucket index for a
   * histogram) of an existing series, for other processes' scrapes. Optional: a store
   * without it leaves exemplars to the metric (the MemoryStore: one process, whose metric
   * renders its own). Called only for updates that carry an exemplar; never throws.
   */
  exemplar?(
    descriptor: MetricDescriptor,
    labelValues: readonly string[],
    slot: number,
    exemplar: Exemplar,
  ): void;
  /** Drops one series of this process (no-op when absent). */
  remove(descriptor: MetricDescriptor, labelValues: readonly string[]): void;
  /** Drops every series of one metric in this process. */
  reset(descriptor: MetricDescriptor): void;
  /** Forgets a metric entirely in this process (registry removal). */
  forget(descriptor: MetricDescriptor): void;
  /**
   * Every family visible through the store, merged across processes. `filter` limits the
   * result to names it accepts (used by a single metric's `get()`).
   */
  collect(filter?: (name: string) => boolean): CollectedFamily[];
  /**
   * Like {@link collect}, for a caller that is done with the result before it collects again
   * (a scrape rendering it): the cells handed out may be refilled in place by the next call,
   * which saves copying every series (a FileStore keeps its merged series between scrapes).
   * Each series' cells always hold the values of one merge; a call that runs before the result
   * is rendered (two scrapes interleaved) leaves the newer values in them. Optional: stores
   * without it are scraped through `collect`.
   */
  collectForScrape?(filter?: (name: string) => boolean): CollectedFamily[];
  /** Publishes pending writes now (no-op for memory). */
  flush(): void;
  /** Flushes and releases resources; later writes are dropped and reported, never thrown. */
  close(): void;
}

/** Number of float64 slots one series of `descriptor` occupies. */
export function seriesSize(descriptor: MetricDescriptor): number {
  switch (descriptor.type) {
    case 'counter':
      return 1;
    case 'gauge':
      return 2;
    case 'histogram':
      return (
        descriptor.buckets.length +
        3 +
        (descriptor.native === undefined ? 0 : nativeSlotCount(descriptor.native))
      );
    case 'summary':
      if (descriptor.summary === undefined) {
        throw new TypeError(`summary descriptor "${descriptor.name}" has no summary settings`);
      }
      return SUMMARY_SKETCH + sketchSize(descriptor.summary);
  }
}

/** Slot indices of a counter series: `[value]`. */
export const COUNTER_VALUE = 0;

/** Slot indices of a gauge series: `[value, timestampMs]` (timestamp kept for `mostrecent`). */
export const GAUGE_VALUE = 0;
/** Milliseconds since the epoch of the last `set`, used by the `mostrecent` modes. */
export const GAUGE_TIMESTAMP = 1;

/**
 * Histogram series: `[bucket_0 … bucket_{n-1}, bucket_+Inf, sum, count]`, buckets NOT
 * cumulative (so merging processes is slot-wise addition); rendering makes them cumulative.
 */
export function histogramSumIndex(bucketCount: number): number {
  return bucketCount + 1;
}
/** Index of a histogram series' count slot; see {@link histogramSumIndex}. */
export function histogramCountIndex(bucketCount: number): number {
  return bucketCount + 2;
}

/**
 * Index of a histogram series' first native slot (after the classic ones), when its descriptor
 * has `native` settings; the native layout is owned by native-histogram.ts.
 */
export function histogramNativeIndex(bucketCount: number): number {
  return bucketCount + 3;
}

/**
 * A collected series of `descriptor` over `cells`, with its native histogram snapshot when the
 * descriptor has native settings: the one place both stores attach it.
 */
export function collectedSeries(
  descriptor: MetricDescriptor,
  labelValues: readonly string[],
  cells: ArrayLike<number>,
  extraLabels?: Readonly<Record<string, string>>,
  exemplars?: readonly (Exemplar | undefined)[],
): CollectedSeries {
  // Object literals rather than conditional spreads: a scrape makes one per series.
  let series: CollectedSeries =
    extraLabels === undefined ? { labelValues, cells } : { labelValues, extraLabels, cells };
  if (exemplars !== undefined) series = { ...series, exemplars };
  const settings = descriptor.native;
  if (descriptor.type !== 'histogram' || settings === undefined) return series;
  const n = descriptor.buckets.length;
  // Decoded on first use only: text and OpenMetrics scrapes never read it. `cells` is the
  // collected copy, which nothing changes afterwards.
  let native: NativeHistogramSnapshot | undefined;
  return {
    ...series,
    get native(): NativeHistogramSnapshot {
      native ??= nativeSnapshot(
        cells,
        histogramNativeIndex(n),
        settings,
        cells[histogramSumIndex(n)] ?? 0,
        cells[histogramCountIndex(n)] ?? 0,
      );
      return native;
    },
  };
}

/** Summary series: `[sum, count, …sketch windows]`; the sketch layout is owned by sketch.ts. */
export const SUMMARY_SUM = 0;
/** Index of a summary series' count slot. */
export const SUMMARY_COUNT = 1;
/** Index of the first slot of a summary's sketch windows. */
export const SUMMARY_SKETCH = 2;

/**
 * Most slots {@link seriesSize} gives a series of any metric the constructors accept: a summary
 * with the most age buckets (16 MB per series). Histograms stay far below (`MAX_BUCKETS` + 3,
 * plus 4 + 2 × 4096 native slots at most).
 * A reader refuses a series entry claiming more before reading it (FORMAT.md, "Limits").
 */
export const MAX_SERIES_SLOTS = SUMMARY_SKETCH + SKETCH_MAX_AGE_BUCKETS * SKETCH_WINDOW_SLOTS;
