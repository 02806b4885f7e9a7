/**
 * Merging the series of several processes into one view, by metric type and gauge mode.
 *
 * - counters, histograms: slot-wise addition (histogram buckets are stored non-cumulative, so
 *   adding them is exact);
 * - summaries: sum and count add; the sketch windows merge through `sketchMergeInto` (sketch.ts
 *   owns their layout and window rotation);
 * - gauges by mode: `all`/`liveall` keep one series per writer with a `pid` extra label, and a
 *   `thread` label (the Node threadId) for series a worker thread wrote;
 *   `sum`, `min`, `max` combine values; `mostrecent` keeps the value with the latest timestamp
 *   slot. The `live*` variants leave out processes that are no longer alive.
 *
 * The first source to define a metric fixes its descriptor (the scraping process's own comes
 * first, so its help text wins); a source whose descriptor of the same name lays out or merges
 * differently has that metric skipped and reported.
 */
import { sketchMergeInto } from '../sketch.js';
import {
  type CollectedFamily,
  type CollectedSeries,
  GAUGE_TIMESTAMP,
  GAUGE_VALUE,
  SUMMARY_COUNT,
  SUMMARY_SKETCH,
  SUMMARY_SUM,
  seriesSize,
} from '../store.js';
import type { GaugeMode, MetricDescriptor } from '../types.js';
import { compatibleDescriptors } from './format.js';

/**
 * One series of one process: its slots are `data[start]`, `data[start + 1]`, ... (a window of a
 * whole file image, so that a scrape allocates no view per series).
 */
export interface SourceSeries {
  readonly labelValues: readonly string[];
  /** `seriesKey(labelValues)` (format.ts), computed once when the series was parsed or created. */
  readonly key: string;
  /** Index of the series' first slot in its family's {@link SourceFamily.data}. */
  readonly start: number;
}

/**
 * One metric of one process. Its series' slots are windows of `data` (the whole file image),
 * so a series is described by where its slots start: the reader hands out the series objects
 * it cached, and a scrape allocates nothing per series before merging.
 */
export interface SourceFamily {
  readonly descriptor: MetricDescriptor;
  readonly data: Float64Array;
  readonly series: readonly SourceSeries[];
}

/** Everything one process (or an archive) contributes. */
export interface Source {
  /** Name of the file it came from, for problem reports. */
  readonly file: string;
  /** Value of the `pid` label for `all`/`liveall` gauges. */
  readonly pid: string;
  /**
   * Value of the `thread` label for `all`/`liveall` gauges: the Node threadId of a worker
   * thread writer; undefined for a main thread (its series have no `thread` label).
   */
  readonly thread?: string;
  /** False for dead processes and archives: `live*` gauges leave them out. */
  readonly live: boolean;
  readonly families: readonly SourceFamily[];
}

/** How merging tells its caller about what it skipped. */
export interface MergeProblems {
  /** A file declared a metric incompatibly with the first declaration; its series skipped. */
  conflict(conflict: MergeConflict): void;
  /**
   * Merging one metric of a file threw (values a sketch could not merge, say); the rest of
   * that metric from that file is skipped and the scrape goes on.
   */
  failed(file: string, error: unknown): void;
}

/** What merging could not reconcile; reported by the caller. */
export interface MergeConflict {
  readonly file: string;
  readonly kept: MetricDescriptor;
  readonly skipped: MetricDescriptor;
}

interface SeriesAcc {
  readonly labelValues: readonly string[];
  readonly extraLabels?: Readonly<Record<string, string>>;
  readonly cells: Float64Array;
}

interface FamilyAcc {
  readonly descriptor: MetricDescriptor;
  /** Slots per series. */
  readonly size: number;
  readonly series: Map<string, SeriesAcc>;
}

/** True for the gauge modes that drop dead processes. */
export function isLiveMode(mode: GaugeMode): boolean {
  return mode.startsWith('live');
}

/** True for the gauge modes that keep one series per process. */
function isPerProcess(mode: GaugeMode): boolean {
  return mode === 'all' || mode === 'liveall';
}

/**
 * Merges `sources` (the scraping process first, then files in name order) into families in
 * first-seen order. `accept` filters by metric name; `nowMs` is the time summaries' windows
 * are judged against.
 */
export function mergeSources(
  sources: readonly Source[],
  accept: (name: string) => boolean,
  nowMs: number,
  problems: MergeProblems,
): CollectedFamily[] {
  const families = new Map<string, FamilyAcc>();
  for (const source of sources) {
    for (const family of source.families) {
      const d = family.descriptor;
      if (!accept(d.name)) continue;
      let acc = families.get(d.name);
      if (acc === undefined) {
        acc = { descriptor: d, size: seriesSize(d), series: new Map() };
        families.set(d.name, acc);
      } else if (acc.descriptor !== d && !compatibleDescriptors(acc.descriptor, d)) {
        problems.conflict({ file: source.file, kept: acc.descriptor, skipped: d });
        continue;
      }
      if (d.type === 'gauge' && !source.live && isLiveMode(d.mode)) continue;
      try {
        for (const series of family.series) mergeSeries(acc, series, family.data, source, nowMs);
      } catch (error) {
        problems.failed(source.file, error);
      }
    }
  }
  const result: CollectedFamily[] = [];
  for (const acc of families.values()) {
    const series: CollectedSeries[] = [];
    for (const s of acc.series.values()) series.push(s);
    result.push({ descriptor: acc.descriptor, series });
  }
  return result;
}

function mergeSeries(
  acc: FamilyAcc,
  series: SourceSeries,
  data: Float64Array,
  source: Source,
  nowMs: number,
): void {
  const d = acc.descriptor;
  const perProcess = d.type === 'gauge' && isPerProcess(d.mode);
  // A gauge of an older version may declare `thread` itself (now reserved on these modes):
  // its threads' series then share the writer key of their process, as they did there.
  const thread = perProcess && !d.labelNames.includes('thread') ? source.thread : undefined;
  // A pid or thread id never contains a NUL, so appending them keeps per-writer keys apart.
  const key = perProcess ? `${series.key}\u0000${source.pid}\u0000${thread ?? ''}` : series.key;
  const start = series.start;
  const existing = acc.series.get(key);
  if (existing === undefined) {
    acc.series.set(key, {
      labelValues: series.labelValues,
      ...(perProcess ? { extraLabels: writerLabels(source.pid, thread) } : {}),
      cells: data.slice(start, start + acc.size),
    });
    return;
  }
  const dst = existing.cells;
  switch (d.type) {
    case 'counter':
    case 'histogram':
      for (let i = 0; i < dst.length; i++) dst[i]! += data[start + i] ?? 0;
      return;
    case 'summary':
      dst[SUMMARY_SUM]! += data[start + SUMMARY_SUM] ?? 0;
      dst[SUMMARY_COUNT]! += data[start + SUMMARY_COUNT] ?? 0;
      if (d.summary !== undefined) {
        const src = data.subarray(start, start + acc.size);
        sketchMergeInto(dst, src, SUMMARY_SKETCH, d.summary, nowMs);
      }
      return;
    case 'gauge':
      mergeGauge(d.mode, dst, data, start);
      return;
  }
}

/** The labels of a per-writer gauge series: `pid`, and `thread` for a worker thread's. */
function writerLabels(pid: string, thread: string | undefined): Readonly<Record<string, string>> {
  return thread === undefined ? { pid } : { pid, thread };
}

/** Folds the gauge at `data[start]` into `dst` by mode (per-process modes never reach here). */
function mergeGauge(mode: GaugeMode, dst: Float64Array, data: Float64Array, start: number): void {
  const value = data[start + GAUGE_VALUE] ?? 0;
  const time = data[start + GAUGE_TIMESTAMP] ?? 0;
  switch (mode) {
    case 'sum':
    case 'livesum':
      dst[GAUGE_VALUE]! += value;
      break;
    case 'min':
    case 'livemin':
      if (value < dst[GAUGE_VALUE]!) dst[GAUGE_VALUE] = value;
      break;
    case 'max':
    case 'livemax':
      if (value > dst[GAUGE_VALUE]!) dst[GAUGE_VALUE] = value;
      break;
    case 'mostrecent':
    case 'livemostrecent':
      // Ties keep the earlier source (the scraping process's own value comes first).
      if (time > dst[GAUGE_TIMESTAMP]!) dst[GAUGE_VALUE] = value;
      break;
    default:
      return;
  }
  if (time > dst[GAUGE_TIMESTAMP]!) dst[GAUGE_TIMESTAMP] = time;
}
