/**
 * Merging the series of several processes into one view, by metric type and gauge mode.
 *
 * - counters, histograms: slot-wise addition (histogram buckets are stored non-cumulative, so
 *   adding them is exact); a native histogram's slots merge through `nativeMergeInto`
 *   (native-histogram.ts: lower schema, wider zero bucket, buckets combined exactly);
 * - summaries: sum and count add; the sketch windows merge through `sketchMergeInto` (sketch.ts
 *   owns their layout and window rotation);
 * - gauges by mode: `all`/`liveall` keep one series per writer with a `pid` extra label, and a
 *   `thread` label (the Node threadId) for series a worker thread wrote;
 *   `sum`, `min`, `max` combine values; `mostrecent` keeps the value with the latest timestamp
 *   slot. The `live*` variants leave out processes that are no longer alive.
 *
 * Exemplars (counters, histograms) keep, per series and slot, the one with the latest timestamp
 * over the live sources (the scraping process wins ties); they follow their slots only where the
 * source's definition is the newest one's.
 *
 * Where sources define one name differently, the newest definition wins whatever the order of
 * the sources (definitions.ts): series of older definitions are carried into it where the
 * layouts allow (histogram buckets re-bucketed, say), and skipped and reported otherwise.
 */
import { laterExemplar } from '../exemplar.js';
import { nativeMergeInto } from '../native-histogram.js';
import { sketchMergeInto } from '../sketch.js';
import {
  type CollectedFamily,
  GAUGE_TIMESTAMP,
  GAUGE_VALUE,
  histogramNativeIndex,
  SUMMARY_COUNT,
  SUMMARY_SKETCH,
  SUMMARY_SUM,
  seriesSize,
} from '../store.js';
import type { Exemplar, GaugeMode, MetricDescriptor } from '../types.js';
import { carryInto, type DefinitionConflict, type SlotCarrier, supersedes } from './definitions.js';
import type { ExpositionBudget } from './exposition-budget.js';
import { compatibleDescriptors } from './format.js';
import { type FamilyAcc, MergeState, type SeriesAcc } from './merge-state.js';

/**
 * The labels of one series of one process. Where its slots are is its family's business
 * ({@link SourceFamily.starts}): the reader hands out the key texts it cached, one object
 * shared by the series entries of all files with the same key (reader.ts, key-texts.ts).
 */
export interface SourceSeries {
  readonly labelValues: readonly string[];
  /** `seriesKey(labelValues)` (format.ts), computed once when the series was parsed or created. */
  readonly key: string;
}

/**
 * One metric of one process. Its series' slots are windows of `data` (the whole file image),
 * so a series is described by where its slots start: series `i` has its slots at
 * `data[starts[i]]`, `data[starts[i] + 1]`, ..., and a scrape allocates nothing per series
 * before merging.
 */
export interface SourceFamily {
  readonly descriptor: MetricDescriptor;
  /**
   * When this definition was born, where the family itself records it (archives); undefined
   * means the source's {@link Source.bornMs}.
   */
  readonly bornMs?: number | undefined;
  readonly data: Float64Array;
  readonly series: readonly SourceSeries[];
  /** Per series of {@link series}: the index of its first slot in {@link data}. */
  readonly starts: ArrayLike<number>;
  /**
   * The latest exemplar per exemplar slot of those of its series that have any (counters and
   * histograms; exemplar-entry.ts), keyed by the series' index in {@link series}.
   */
  readonly exemplars?: ReadonlyMap<number, readonly (Exemplar | undefined)[]>;
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
  /**
   * When the definitions of its families were born unless a family says otherwise: the
   * creation time of the process file, 0 (the oldest) for an archive (definitions.ts).
   */
  readonly bornMs: number;
  readonly families: readonly SourceFamily[];
}

/** How merging tells its caller about what it skipped. */
export interface MergeProblems {
  /**
   * Leaves out whole sources whose new series would exceed it (exposition-budget.ts); it lists
   * them. Absent: no bound (compaction, whose output is bounded by the file size limit).
   */
  readonly budget?: ExpositionBudget;
  /** A file declared a metric incompatibly with its newest definition; its series skipped. */
  conflict(conflict: MergeConflict): void;
  /**
   * Merging one metric of a file threw (values a sketch could not merge, say); the rest of
   * that metric from that file is skipped and the scrape goes on.
   */
  failed(file: string, error: unknown): void;
}

/** What merging could not reconcile; reported by the caller. */
export type MergeConflict = DefinitionConflict;

/** A merged family with the birth of the definition it is merged under. */
export interface MergedFamily extends CollectedFamily {
  readonly bornMs: number;
}

/** The newest definition of one name among the sources. */
interface Newest {
  readonly descriptor: MetricDescriptor;
  readonly bornMs: number;
  readonly file: string;
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
 * The newest definition (definitions.ts) of every name `accept` takes, over all `sources`.
 * Independent of the order of the sources.
 */
function newestDefinitions(
  sources: readonly Source[],
  accept: (name: string) => boolean,
): Map<string, Newest> {
  const newest = new Map<string, Newest>();
  for (const source of sources) {
    for (const family of source.families) {
      const d = family.descriptor;
      const bornMs = family.bornMs ?? source.bornMs;
      const current = newest.get(d.name);
      if (
        current === undefined
          ? accept(d.name)
          : supersedes(d, bornMs, current.descriptor, current.bornMs)
      ) {
        newest.set(d.name, { descriptor: d, bornMs, file: source.file });
      }
    }
  }
  return newest;
}

/** How `family`'s series enter the merge under `newest`: as they are, converted, or not at all. */
function carryFor(family: SourceFamily, newest: Newest): 'as-is' | SlotCarrier | undefined {
  const d = family.descriptor;
  if (d === newest.descriptor || compatibleDescriptors(newest.descriptor, d)) return 'as-is';
  return carryInto(d, newest.descriptor);
}

/**
 * The families of `sources` that the newest definition of their name cannot take (what
 * {@link mergeSources} reports as conflicts), so that a caller can count them before merging.
 */
export function findConflicts(
  sources: readonly Source[],
  accept: (name: string) => boolean,
): MergeConflict[] {
  const newest = newestDefinitions(sources, accept);
  const conflicts: MergeConflict[] = [];
  for (const source of sources) {
    for (const family of source.families) {
      const winner = newest.get(family.descriptor.name);
      if (winner !== undefined && carryFor(family, winner) === undefined) {
        conflicts.push(conflictOf(source, family, winner));
      }
    }
  }
  return conflicts;
}

/**
 * Merges `sources` (the scraping process first, then files in name order) into families in
 * first-seen order, each under the newest definition of its name. `accept` filters by metric
 * name; `nowMs` is the time summaries' windows are judged against. `state` keeps the merged
 * series between the merges of one store (merge-state.ts); without it the merge starts afresh.
 */
export function mergeSources(
  sources: readonly Source[],
  accept: (name: string) => boolean,
  nowMs: number,
  problems: MergeProblems,
  state: MergeState = new MergeState(),
): MergedFamily[] {
  const newest = newestDefinitions(sources, accept);
  const { budget } = problems;
  state.begin();
  const isMerged = (family: SourceFamily, series: SourceSeries, source: Source): boolean => {
    const acc = state.touchedFamily(family.descriptor.name);
    return (
      acc !== undefined &&
      state.current(acc, mergeKey(acc.descriptor, series, source)) !== undefined
    );
  };
  for (const source of sources) {
    if (budget !== undefined && !budget.admits(source, accept, (f, s) => isMerged(f, s, source))) {
      continue;
    }
    for (const family of source.families) {
      const winner = newest.get(family.descriptor.name);
      if (winner === undefined) continue;
      const carry = carryFor(family, winner);
      if (carry === undefined) {
        problems.conflict(conflictOf(source, family, winner));
        continue;
      }
      const acc = state.family(winner.descriptor, winner.bornMs, seriesSize(winner.descriptor));
      const d = acc.descriptor;
      if (d.type === 'gauge' && !source.live && isLiveMode(d.mode)) continue;
      try {
        mergeFamily(state, acc, family, carry, source, nowMs, budget);
      } catch (error) {
        problems.failed(source.file, error);
      }
    }
  }
  return state.finish(accept);
}

function conflictOf(source: Source, family: SourceFamily, newest: Newest): MergeConflict {
  return {
    file: source.file,
    skipped: family.descriptor,
    keptFile: newest.file,
    kept: newest.descriptor,
  };
}

/**
 * The thread whose `all`/`liveall` gauge series a source's series are, or undefined (other
 * metrics, main threads). A gauge of an older version may declare `thread` itself (now
 * reserved on these modes): its threads' series then share the writer key of their process,
 * as they did there.
 */
function writerThread(d: MetricDescriptor, source: Source): string | undefined {
  const perProcess = d.type === 'gauge' && isPerProcess(d.mode);
  return perProcess && !d.labelNames.includes('thread') ? source.thread : undefined;
}

/** The key a series merges under in its family: per writer for `all`/`liveall` gauges. */
function mergeKey(d: MetricDescriptor, series: SourceSeries, source: Source): string {
  if (d.type !== 'gauge' || !isPerProcess(d.mode)) return series.key;
  // A pid or thread id never contains a NUL, so appending them keeps per-writer keys apart.
  return `${series.key}\u0000${source.pid}\u0000${writerThread(d, source) ?? ''}`;
}

/**
 * Merges the series of one family of `source` into `acc`. A family merged as is the same way
 * as in the round before (the same series objects) reuses that round's targets (merge-state.ts:
 * a plan) instead of looking each series up by key.
 */
function mergeFamily(
  state: MergeState,
  acc: FamilyAcc,
  family: SourceFamily,
  carry: 'as-is' | SlotCarrier,
  source: Source,
  nowMs: number,
  budget: ExpositionBudget | undefined,
): void {
  const d = acc.descriptor;
  const list = family.series;
  const starts = family.starts;
  // Exemplars follow their slots only where the layouts agree (not across re-bucketing),
  // and come from live processes only: a dead one's file may wait for its compaction (off
  // in this process, or busy), and its exemplars are no longer examples of recent events.
  const exemplars = carry === 'as-is' && source.live ? family.exemplars : undefined;
  const plan = carry === 'as-is' ? state.plan(source.file, family, acc) : undefined;
  // Sized up front: growing it by pushes allocated about twice its size along the way.
  const targets: SeriesAcc[] | undefined =
    carry === 'as-is' && plan === undefined ? new Array(list.length) : undefined;
  // One closure per family, not per series (a cold scrape merges every series by key).
  const extraLabels =
    d.type === 'gauge' && isPerProcess(d.mode)
      ? () => writerLabels(source.pid, writerThread(d, source))
      : noExtraLabels;
  for (let i = 0; i < list.length; i++) {
    const series = list[i] as SourceSeries;
    const target =
      plan?.[i] ?? state.seriesOf(acc, mergeKey(d, series, source), series, extraLabels);
    if (targets !== undefined) targets[i] = target;
    const data = carry === 'as-is' ? family.data : carry(family.data, starts[i] as number);
    const start = carry === 'as-is' ? (starts[i] as number) : 0;
    const latest = exemplars?.get(i);
    if (state.fill(acc, target)) {
      copySlots(target.cells, data, start);
      target.exemplars = latest?.slice();
      budget?.spend(d, series.key);
    } else {
      mergeSlots(d, acc.size, target.cells, data, start, nowMs);
      if (latest !== undefined) target.exemplars = laterExemplars(target.exemplars, latest);
    }
    if (latest !== undefined) {
      state.markExemplars(acc);
      budget?.spendExemplars(latest);
    }
  }
  if (targets !== undefined) state.remember(source.file, family, acc, targets);
}

/**
 * Per slot the later of `merged` (the exemplars of the sources merged so far into a series)
 * and `latest` (one more source's); ties keep the earlier source's (the scraping process comes
 * first).
 */
function laterExemplars(
  merged: (Exemplar | undefined)[] | undefined,
  latest: readonly (Exemplar | undefined)[],
): (Exemplar | undefined)[] {
  if (merged === undefined) return latest.slice();
  for (let i = 0; i < latest.length; i++) merged[i] = laterExemplar(merged[i], latest[i]);
  return merged;
}

/** Merges the slots at `data[start]` into `dst`, a merged series that already has values. */
function mergeSlots(
  d: MetricDescriptor,
  size: number,
  dst: Float64Array,
  data: Float64Array,
  start: number,
  nowMs: number,
): void {
  switch (d.type) {
    case 'counter':
      dst[0]! += data[start] ?? 0;
      return;
    case 'histogram': {
      const classic = histogramNativeIndex(d.buckets.length);
      for (let i = 0; i < classic; i++) dst[i]! += data[start + i] ?? 0;
      if (d.native !== undefined) nativeMergeInto(dst, classic, data, start + classic, d.native);
      return;
    }
    case 'summary':
      dst[SUMMARY_SUM]! += data[start + SUMMARY_SUM] ?? 0;
      dst[SUMMARY_COUNT]! += data[start + SUMMARY_COUNT] ?? 0;
      if (d.summary !== undefined) {
        const src = data.subarray(start, start + size);
        sketchMergeInto(dst, src, SUMMARY_SKETCH, d.summary, nowMs);
      }
      return;
    case 'gauge':
      mergeGauge(d.mode, dst, data, start);
      return;
  }
}

/** Overwrites `cells` with the slots at `data[start]` (zeros past the end of `data`). */
function copySlots(cells: Float64Array, data: Float64Array, start: number): void {
  const n = cells.length;
  if (n === 1) {
    cells[0] = data[start] ?? 0;
    return;
  }
  if (n <= SMALL_COPY) {
    // A loop, not a subarray and `set`: no view object per series of every file.
    for (let i = 0; i < n; i++) cells[i] = data[start + i] ?? 0;
    return;
  }
  const src = data.subarray(start, start + n);
  if (src.length < n) cells.fill(0);
  cells.set(src);
}

/** Slots up to which {@link copySlots} copies by a loop (a classic histogram has 15 or so). */
const SMALL_COPY = 64;

/** The store labels of the merged series of every metric but per-writer gauges: none. */
function noExtraLabels(): undefined {
  return undefined;
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
