/**
 * Several definitions of one metric name in one directory: which one wins, how data recorded
 * under another one is carried into it, and how two of them differ (for conflict reports).
 *
 * A rolling deploy runs workers of an old and a new version side by side, and the new version
 * may declare a metric differently (other buckets, other label names). The rule:
 *
 * - **The newest definition wins**, everywhere: at every scrape, whichever worker answers it,
 *   and in the archive, however compactions interleave. A definition is born when the writer
 *   that declared it started, i.e. at the creation time of its process file (header, offset
 *   56). The archive records the birth of each definition it holds (`bornMs` in the
 *   descriptor, FORMAT.md); an archive without it holds definitions of unknown age, taken as
 *   the oldest. Equal births are ordered by the descriptor text, so every process decides
 *   alike.
 * - **Data under an older definition is carried into the newest one when the layouts allow**
 *   ({@link carryInto}): histograms that differ only in their buckets are re-bucketed (see
 *   {@link rebucket} for what is exact); summaries that differ only in their quantiles merge
 *   as they are (the sketch does not depend on them); summaries whose window differs keep
 *   their sum and count; a changed native histogram option carries the native buckets into
 *   the new settings. Counts therefore never go down across a deploy that changes buckets.
 * - **Anything else is a conflict** (another type, label names or gauge mode): only the newest
 *   definition's data is shown and archived; the older series are left out, which never
 *   deletes newer data. The caller reports each conflict once and counts it.
 */
import { describeValue, StoreError } from '../errors.js';
import {
  type NativeHistogramSettings,
  nativeCarry,
  nativeFromClassic,
  sameNativeSettings,
} from '../native-histogram.js';
import {
  histogramCountIndex,
  histogramNativeIndex,
  histogramSumIndex,
  SUMMARY_COUNT,
  SUMMARY_SUM,
  seriesSize,
} from '../store.js';
import type { MetricDescriptor, SummarySettings } from '../types.js';
import {
  compatibleDescriptors,
  descriptorJson,
  FILE_FLAG_ARCHIVE,
  type FileHeader,
} from './format.js';

/**
 * Birth of the definitions of a file that records none per descriptor: its creation time for
 * a process file, 0 (the oldest) for an archive, whose header time is only when it was
 * written. A damaged time counts as the oldest.
 */
export function fileBornMs(header: FileHeader): number {
  if ((header.flags & FILE_FLAG_ARCHIVE) !== 0) return 0;
  const created = header.createdMs;
  return Number.isFinite(created) && created > 0 ? created : 0;
}

/**
 * True when definition `a` (born `aBornMs`) supersedes `b` (born `bBornMs`): born later, or
 * born in the same millisecond with the greater descriptor text, so that every process picks
 * the same winner whatever order it reads files in.
 */
export function supersedes(
  a: MetricDescriptor,
  aBornMs: number,
  b: MetricDescriptor,
  bBornMs: number,
): boolean {
  if (aBornMs !== bBornMs) return aBornMs > bBornMs;
  if (a === b || (a.help === b.help && compatibleDescriptors(a, b))) return false;
  return descriptorJson(a) > descriptorJson(b);
}

/**
 * Turns one series' slots recorded under an older definition (`data[start]`, ...) into the
 * slots of the newest definition (a new array of its series size).
 */
export type SlotCarrier = (data: ArrayLike<number>, start: number) => Float64Array;

/**
 * How series recorded under `from` enter a merge under `to` (the newest definition of the same
 * name): `'as-is'` when the slots mean the same (only help or summary quantiles differ), a
 * {@link SlotCarrier} when they can be converted, undefined for a conflict.
 */
export function carryInto(
  from: MetricDescriptor,
  to: MetricDescriptor,
): 'as-is' | SlotCarrier | undefined {
  if (from.name !== to.name || from.type !== to.type || from.mode !== to.mode) return undefined;
  if (!sameList(from.labelNames, to.labelNames)) return undefined;
  switch (to.type) {
    case 'histogram':
      if (sameList(from.buckets, to.buckets) && sameNativeSettings(from.native, to.native)) {
        return 'as-is';
      }
      return carryHistogram(from, to);
    case 'summary':
      if (from.summary === undefined || to.summary === undefined) return undefined;
      return sameSketchLayout(from.summary, to.summary) ? 'as-is' : sumAndCountOnly(to);
    default:
      return compatibleDescriptors(from, to) ? 'as-is' : undefined;
  }
}

/**
 * Re-buckets histogram slots (non-cumulative buckets, then +Inf, sum, count) from the bounds
 * `from` into the bounds `to`. Each old bucket's count goes to the first new bucket whose bound
 * is >= the old bound (none: +Inf); the old +Inf goes to +Inf; sum and count are carried
 * exactly. Every observation thus lands in a bucket whose bound is >= its value, so:
 *
 * - `_sum`, `_count` and the `+Inf` bucket are exact;
 * - the cumulative count at a new bound that is also an old bound is exact;
 * - the cumulative count at a new bound between two old bounds `lo < b < hi` counts the old
 *   observations <= `lo` and misses those in (`lo`, `b`], which could not be told apart from
 *   those in (`b`, `hi`]: it is a lower bound, never an overcount (at a new bound below every
 *   old bound it is 0 for old data).
 */
export function rebucket(from: readonly number[], to: readonly number[]): SlotCarrier {
  const target = from.map((bound) => {
    const index = to.findIndex((b) => b >= bound);
    return index < 0 ? to.length : index;
  });
  const size = to.length + 3;
  return (data, start) => {
    const out = new Float64Array(size);
    for (let i = 0; i < from.length; i++) out[target[i]!]! += data[start + i] ?? 0;
    out[to.length]! += data[start + from.length] ?? 0;
    out[histogramSumIndex(to.length)] = data[start + histogramSumIndex(from.length)] ?? 0;
    out[histogramCountIndex(to.length)] = data[start + histogramCountIndex(from.length)] ?? 0;
    return out;
  };
}

/**
 * Histogram slots under another definition: the classic part re-bucketed ({@link rebucket}; as
 * it is for equal buckets), the native part carried by `nativeCarry` (native-histogram.ts):
 * buckets combined exactly into the new settings' schema (the lower of the two) and zero
 * threshold, seeded from the classic buckets where the older definition had no native option
 * (`nativeFromClassic`: the count must equal the native buckets' total), dropped where the newest
 * has none. So a deploy that turns the native option on, off or changes it is no conflict.
 */
function carryHistogram(from: MetricDescriptor, to: MetricDescriptor): SlotCarrier {
  const classic = rebucket(from.buckets, to.buckets);
  const native = to.native;
  if (native === undefined) return classic;
  const size = seriesSize(to);
  const fromNative = histogramNativeIndex(from.buckets.length);
  const toNative = histogramNativeIndex(to.buckets.length);
  return (data, start) => {
    const out = new Float64Array(size);
    out.set(classic(data, start));
    if (from.native === undefined) {
      // Its observations are only in the classic buckets: they seed the native ones, so the
      // merged count stays the native buckets' total.
      nativeFromClassic(data, start, from.buckets, out, toNative, native);
    } else {
      nativeCarry(data, start + fromNative, from.native, out, toNative, native);
    }
    return out;
  };
}

/**
 * Summary slots under another sliding window: sum and count carried exactly (they cover all
 * time), the sketch windows left empty (their layout differs; the quantiles then cover only
 * what was recorded under the newest window, which older windows would have left soon anyway).
 */
function sumAndCountOnly(to: MetricDescriptor): SlotCarrier {
  const size = seriesSize(to);
  return (data, start) => {
    const out = new Float64Array(size);
    out[SUMMARY_SUM] = data[start + SUMMARY_SUM] ?? 0;
    out[SUMMARY_COUNT] = data[start + SUMMARY_COUNT] ?? 0;
    return out;
  };
}

/** True when two summaries lay out their sketch windows alike (quantiles play no part). */
function sameSketchLayout(a: SummarySettings, b: SummarySettings): boolean {
  // Without a window (maxAgeSeconds 0) there is one window whatever ageBuckets says.
  return (
    a.maxAgeSeconds === b.maxAgeSeconds && (a.maxAgeSeconds === 0 || a.ageBuckets === b.ageBuckets)
  );
}

/**
 * What differs between an older and a newer definition, field by field, in the form
 * `labelNames [a] vs [a,b], buckets [1,2] vs [1,5]` (older first). Help text is left out.
 */
export function describeDifference(older: MetricDescriptor, newer: MetricDescriptor): string {
  const parts: string[] = [];
  const field = (name: string, a: string, b: string): void => {
    if (a !== b) parts.push(`${name} ${a} vs ${b}`);
  };
  field('type', older.type, newer.type);
  field('mode', older.mode, newer.mode);
  field('labelNames', list(older.labelNames), list(newer.labelNames));
  field('buckets', list(older.buckets), list(newer.buckets));
  field('nativeHistogram', nativeText(older.native), nativeText(newer.native));
  const a = older.summary;
  const b = newer.summary;
  if (a !== undefined && b !== undefined) {
    field('percentiles', list(a.percentiles), list(b.percentiles));
    field('maxAgeSeconds', String(a.maxAgeSeconds), String(b.maxAgeSeconds));
    field('ageBuckets', String(a.ageBuckets), String(b.ageBuckets));
  }
  return parts.join(', ');
}

/** A definition whose series a merge left out because the newest one cannot take them. */
export interface DefinitionConflict {
  /** File of the older definition (its series are left out). */
  readonly file: string;
  readonly skipped: MetricDescriptor;
  /** File of the newest definition, which is kept. */
  readonly keptFile: string;
  readonly kept: MetricDescriptor;
}

/**
 * Key under which a conflict is reported (once) and counted: the metric and what differs
 * between its two definitions, not the file. So one conflict is one report, however many old
 * workers hold the older definition, whether a scrape leaves their series out or a compaction
 * drops them, and after their series have moved into the archive.
 */
export function conflictKey(conflict: DefinitionConflict): string {
  return `conflict:${conflict.kept.name}:${describeDifference(conflict.skipped, conflict.kept)}`;
}

/** The report of a conflict (PROMFORK_METRIC_CONFLICT), naming what differs. */
export function conflictError(dir: string, conflict: DefinitionConflict): StoreError {
  const { file, skipped, keptFile, kept } = conflict;
  return new StoreError(
    'PROMFORK_METRIC_CONFLICT',
    `Metric ${describeValue(kept.name)} in ${describeValue(file)} in ${describeValue(dir)} ` +
      `conflicts with its newest definition, in ${describeValue(keptFile)} ` +
      `(${describeDifference(skipped, kept)}): the series of the older definition are left ` +
      'out of scrapes and out of the archive when that file is compacted (one report for all ' +
      'the files that hold them)',
  );
}

function nativeText(settings: NativeHistogramSettings | undefined): string {
  if (settings === undefined) return 'off';
  const { schema, maxBuckets, zeroThreshold } = settings;
  return `{schema ${schema}, maxBuckets ${maxBuckets}, zeroThreshold ${zeroThreshold}}`;
}

function list(values: readonly (string | number)[]): string {
  return `[${values.join(',')}]`;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
