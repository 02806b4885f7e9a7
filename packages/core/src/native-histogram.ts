/**
 * Native (sparse, exponential-bucket) histograms: the option, the slot layout they add to a
 * histogram series, recording, merging, and the snapshot exposition reads.
 *
 * Buckets follow Prometheus: at schema `s` (-4..8) the base is `2^(2^-s)` and bucket `i` of a
 * sign covers `(base^(i-1), base^i]` of the magnitude; observations with `|v| <= zeroThreshold`
 * go to the zero bucket. Lowering the schema by one merges buckets `2j-1` and `2j` into bucket
 * `j` (so bucket `i` goes to `ceil(i / 2)`, and to `ceil(i / 2^d)` for `d` steps): exact, no
 * observation changes side of a bound.
 *
 * Slot layout, after a histogram's classic slots (`buckets.length + 3`, store.ts), of fixed size
 * `4 + 2 * maxBuckets` so that a series (and a store file) never grows with the data:
 *
 * | slot | content |
 * |---|---|
 * | 0 | reductions: the series' schema is the configured schema minus this (0 initially) |
 * | 1 | zero threshold when widened beyond the configured one; 0 = the configured one |
 * | 2 | zero bucket count |
 * | 3 | number of populated pairs `n` (<= maxBuckets) |
 * | 4 + 2k, 5 + 2k | pair `k < n`: key, count. key = `2 * index` (positive) or `2 * index + 1` (negative) |
 *
 * The observation count and sum are the classic `_count` and `_sum` slots: both views count the
 * same observations. When a new bucket would make more than `maxBuckets` populated buckets
 * (both signs together, as client_golang counts them), the series' schema is lowered by one
 * (pairs merged exactly) until it fits; at schema -4 the zero bucket is widened to swallow the
 * bucket nearest zero instead. Merging (processes, archive) brings both sides to the lower
 * schema and the wider zero threshold, adds, and fits the result the same way.
 */
import type { Cells } from './store.js';
import { invalidOption } from './validation.js';

/** One native histogram series as collected (merged) for exposition. */
export interface NativeHistogramSnapshot {
  /** -4..8; bucket boundaries are powers of 2^(2^-schema). */
  readonly schema: number;
  /** Observations with |v| <= zeroThreshold go to the zero bucket. */
  readonly zeroThreshold: number;
  readonly zeroCount: number;
  /**
   * All observations: the zero bucket's and every bucket's, and the `_count` of the classic
   * view. Histograms reject NaN and infinities (PROMFORK_INVALID_VALUE), so none is counted.
   * Where a rolling deploy turned the native option on, observations recorded before it count
   * here but are in no bucket (as NaN observations are in client_golang).
   */
  readonly count: number;
  readonly sum: number;
  /** Populated positive buckets, ascending index: bucket i covers (base^(i-1), base^i]. */
  readonly positive: ReadonlyArray<readonly [index: number, count: number]>;
  readonly negative: ReadonlyArray<readonly [index: number, count: number]>;
}

/** The `nativeHistogram` option of a Histogram, with client_golang's meaning. */
export interface NativeHistogramOptions {
  /**
   * Largest growth factor from one bucket's bound to the next; the schema is the highest whose
   * factor `2^(2^-schema)` does not exceed it (clamped to -4..8). Above 1.
   * @default 1.1 (schema 3, factor 1.0905)
   */
  bucketFactor?: number;
  /**
   * Most populated buckets per series (both signs together). Beyond it the resolution is
   * halved (schema - 1) until the buckets fit. Unlike client_golang (0 = no limit), promfork
   * needs a bound: the series has a fixed slot count in the store file. 1..4096.
   * @default 160
   */
  maxBuckets?: number;
  /**
   * Observations with `|v| <=` this go to the zero bucket. 0 makes a zero bucket for exact
   * zeros only (client_golang's `NativeHistogramZeroThresholdZero`). Finite, >= 0.
   * @default 2^-128 (client_golang's default)
   */
  zeroThreshold?: number;
  /**
   * client_golang resets a series that reaches maxBuckets after this long. Only 0 (never) is
   * accepted: merged across processes, one process's reset would read as a reset of the whole
   * sum and inflate `rate()`; resolution is reduced instead.
   * @default 0
   */
  minResetDuration?: number;
}

/** The native settings a histogram's descriptor carries (and a store file records). */
export interface NativeHistogramSettings {
  /** The configured (highest) schema, -4..8. */
  readonly schema: number;
  /** Most populated buckets per series, 1..{@link NATIVE_MAX_BUCKETS_LIMIT}. */
  readonly maxBuckets: number;
  /** The configured zero threshold, finite and >= 0. */
  readonly zeroThreshold: number;
}

/** Lowest and highest schemas Prometheus accepts. */
export const NATIVE_SCHEMA_MIN = -4;
/** See {@link NATIVE_SCHEMA_MIN}. */
export const NATIVE_SCHEMA_MAX = 8;
/** Largest accepted `maxBuckets`: 64 KiB of slots per series. */
export const NATIVE_MAX_BUCKETS_LIMIT = 4096;
/** client_golang's default zero threshold, 2^-128. */
export const NATIVE_DEFAULT_ZERO_THRESHOLD = 2 ** -128;
/** Default `maxBuckets` (the OpenTelemetry exponential histogram's default size). */
export const NATIVE_DEFAULT_MAX_BUCKETS = 160;
/** Default `bucketFactor` (client_golang's suggested value). */
export const NATIVE_DEFAULT_BUCKET_FACTOR = 1.1;

const REDUCTIONS = 0;
const ZERO_THRESHOLD = 1;
const ZERO_COUNT = 2;
const USED = 3;
const PAIRS = 4;
/** Largest |key| a sane series holds: index within float64's exponent range at schema 8. */
const MAX_KEY = 2 * 1100 * 256;

/** The highest schema whose bucket factor does not exceed `bucketFactor` (client_golang's rule). */
export function schemaForFactor(bucketFactor: number): number {
  // `0 - x`, not `-x`: a factor of 2 must give schema 0, not -0.
  const schema = 0 - Math.floor(Math.log2(Math.log2(bucketFactor)));
  return Math.min(NATIVE_SCHEMA_MAX, Math.max(NATIVE_SCHEMA_MIN, schema));
}

/**
 * Checks the `nativeHistogram` option (`true` for all defaults) and returns the settings, or
 * undefined for `false`/absent. Throws PROMFORK_INVALID_OPTION naming the bad field.
 */
export function resolveNativeOption(
  option: unknown,
  where: string,
): NativeHistogramSettings | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null || Array.isArray(option))) {
    invalidOption(where, 'nativeHistogram', option, 'true, false or an options object');
  }
  const o = (option === true ? {} : option) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['bucketFactor', 'maxBuckets', 'zeroThreshold', 'minResetDuration'].includes(key)) {
      invalidOption(
        where,
        `nativeHistogram.${key}`,
        o[key],
        'one of bucketFactor, maxBuckets, zeroThreshold, minResetDuration',
      );
    }
  }
  const factor = o.bucketFactor ?? NATIVE_DEFAULT_BUCKET_FACTOR;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || !(factor > 1)) {
    invalidOption(where, 'nativeHistogram.bucketFactor', factor, 'a finite number above 1');
  }
  const maxBuckets = o.maxBuckets ?? NATIVE_DEFAULT_MAX_BUCKETS;
  if (
    typeof maxBuckets !== 'number' ||
    !Number.isInteger(maxBuckets) ||
    maxBuckets < 1 ||
    maxBuckets > NATIVE_MAX_BUCKETS_LIMIT
  ) {
    invalidOption(
      where,
      'nativeHistogram.maxBuckets',
      maxBuckets,
      `an integer from 1 to ${NATIVE_MAX_BUCKETS_LIMIT}`,
    );
  }
  const zeroThreshold = o.zeroThreshold ?? NATIVE_DEFAULT_ZERO_THRESHOLD;
  if (typeof zeroThreshold !== 'number' || !Number.isFinite(zeroThreshold) || zeroThreshold < 0) {
    invalidOption(where, 'nativeHistogram.zeroThreshold', zeroThreshold, 'a finite number >= 0');
  }
  const minReset = o.minResetDuration ?? 0;
  if (minReset !== 0) {
    invalidOption(
      where,
      'nativeHistogram.minResetDuration',
      minReset,
      '0 (promfork never resets a native histogram: merged across processes a reset would ' +
        'inflate rate(); it reduces resolution instead)',
    );
  }
  return { schema: schemaForFactor(factor), maxBuckets, zeroThreshold };
}

/**
 * Checks settings read from a store file (untrusted); returns them or undefined when they are
 * not settings {@link resolveNativeOption} could have produced.
 */
export function decodeNativeSettings(raw: unknown): NativeHistogramSettings | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { schema, maxBuckets, zeroThreshold } = raw as Record<string, unknown>;
  if (
    typeof schema !== 'number' ||
    !Number.isInteger(schema) ||
    schema < NATIVE_SCHEMA_MIN ||
    schema > NATIVE_SCHEMA_MAX ||
    typeof maxBuckets !== 'number' ||
    !Number.isInteger(maxBuckets) ||
    maxBuckets < 1 ||
    maxBuckets > NATIVE_MAX_BUCKETS_LIMIT ||
    typeof zeroThreshold !== 'number' ||
    !Number.isFinite(zeroThreshold) ||
    zeroThreshold < 0
  ) {
    return undefined;
  }
  return { schema, maxBuckets, zeroThreshold };
}

/** True when two settings lay out and bucket alike (both absent counts as alike). */
export function sameNativeSettings(
  a: NativeHistogramSettings | undefined,
  b: NativeHistogramSettings | undefined,
): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.schema === b.schema && a.maxBuckets === b.maxBuckets && a.zeroThreshold === b.zeroThreshold
  );
}

/** Slots the native part of one series takes (see the module comment). */
export function nativeSlotCount(settings: NativeHistogramSettings): number {
  return PAIRS + 2 * settings.maxBuckets;
}

// ---------------------------------------------------------------------------------------------
// Bucket index of a value

/** `BOUNDS[r] = 2^(r / 256)`, r = 0..256: the bounds of the mantissa at schema 8. */
const BOUNDS = Float64Array.from({ length: 257 }, (_, r) => 2 ** (r / 256));
/**
 * `FIRST[t]`: the lowest r >= 1 whose bound is at least `1 + t / 1024`, where `t` is the top 10
 * bits of a mantissa: the search for a mantissa starts there and moves up at most once, since
 * a schema-8 bucket (0.27 % wide) is wider than a 1/1024 segment.
 */
const FIRST = Int16Array.from({ length: 1024 }, (_, t) => {
  let r = 1;
  while ((BOUNDS[r] as number) < 1 + t / 1024) r++;
  return r;
});
/** Scratch views for reading a float's exponent and mantissa bits. */
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
/** Which 32-bit word of a float64 holds its sign, exponent and top mantissa bits (host order). */
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

/**
 * Index of the bucket holding the magnitude `v` (> 0, finite) at `schema`: the `i` with
 * `base^(i-1) < v <= base^i`. Exact at every bound: the index at schema 8 is found from the
 * float's exponent bits and a mantissa table, then reduced to `schema` by
 * `ceil(i / 2^(8 - schema))`, which is exact because the bounds of lower schemas are bounds of
 * schema 8.
 */
export function nativeBucketIndex(v: number, schema: number): number {
  F64[0] = v;
  let hi = U32[HI] as number;
  let bits = (hi >>> 20) & 0x7ff;
  let e = bits - 1023;
  if (bits === 0) {
    // Subnormal: scaled by 2^64 (exact) into the normal range.
    F64[0] = v * 2 ** 64;
    hi = U32[HI] as number;
    bits = (hi >>> 20) & 0x7ff;
    e = bits - 1023 - 64;
  }
  let index = e * 256;
  const frac = hi & 0xfffff;
  if (frac !== 0 || U32[LO] !== 0) {
    U32[HI] = frac | 0x3ff00000; // the mantissa m in [1, 2)
    const m = F64[0] as number;
    let r = FIRST[frac >>> 10] as number;
    while (m > (BOUNDS[r] as number)) r++;
    index += r;
  }
  const shift = 8 - schema;
  return (index + (1 << shift) - 1) >> shift;
}

/**
 * Upper bound `base^index` of a bucket at `schema`, from the same table that
 * {@link nativeBucketIndex} compares with, so that `nativeBucketIndex(nativeUpperBound(i, s), s)`
 * is `i` exactly.
 */
export function nativeUpperBound(index: number, schema: number): number {
  if (schema <= 0) return 2 ** (index * 2 ** -schema);
  const n = 1 << schema;
  const e = Math.floor(index / n);
  return (BOUNDS[(index - e * n) << (8 - schema)] as number) * 2 ** e;
}

// ---------------------------------------------------------------------------------------------
// The decoded state of one series, for the rare whole-series operations

/** One series' native part, decoded: what reductions and merges work on. */
interface NativeState {
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  /** key (see the module comment) -> count. */
  readonly buckets: Map<number, number>;
}

function isKey(k: number): boolean {
  return Number.isInteger(k) && k >= -MAX_KEY && k <= MAX_KEY;
}

/**
 * Decodes the native slots at `data[start]`. Slots from a file are untrusted: anything a writer
 * cannot produce (a pair with a non-integer key, a negative count) is left out, never thrown.
 */
function decodeState(
  data: ArrayLike<number>,
  start: number,
  settings: NativeHistogramSettings,
): NativeState {
  const reductions = data[start + REDUCTIONS] ?? 0;
  const schema =
    Number.isInteger(reductions) && reductions > 0
      ? Math.max(NATIVE_SCHEMA_MIN, settings.schema - reductions)
      : settings.schema;
  const widened = data[start + ZERO_THRESHOLD] ?? 0;
  const zeroThreshold =
    Number.isFinite(widened) && widened > settings.zeroThreshold ? widened : settings.zeroThreshold;
  const zc = data[start + ZERO_COUNT] ?? 0;
  const zeroCount = Number.isFinite(zc) && zc > 0 ? zc : 0;
  const usedRaw = data[start + USED] ?? 0;
  const used = Number.isInteger(usedRaw) ? Math.max(0, Math.min(settings.maxBuckets, usedRaw)) : 0;
  const buckets = new Map<number, number>();
  for (let k = 0; k < used; k++) {
    const key = data[start + PAIRS + 2 * k] ?? 0;
    const count = data[start + PAIRS + 2 * k + 1] ?? 0;
    if (!isKey(key) || !Number.isFinite(count) || !(count > 0)) continue;
    buckets.set(key, (buckets.get(key) ?? 0) + count);
  }
  return { schema, zeroThreshold, zeroCount, buckets };
}

/** Lowers `state` to `schema` (<= its own), merging buckets exactly. */
function lowerSchema(state: NativeState, schema: number): void {
  const d = state.schema - schema;
  if (d <= 0) return;
  const entries = [...state.buckets];
  state.buckets.clear();
  for (const [key, count] of entries) {
    const sign = key & 1;
    const index = key >> 1;
    const lowered = (index + (1 << d) - 1) >> d; // ceil(index / 2^d)
    const k = 2 * lowered + sign;
    state.buckets.set(k, (state.buckets.get(k) ?? 0) + count);
  }
  state.schema = schema;
}

/**
 * Widens the zero bucket to at least `threshold`: every bucket reaching below it moves into the
 * zero bucket, and the threshold grows to the upper bound of any bucket that straddles it, so
 * no observation is split.
 */
function widenZero(state: NativeState, threshold: number): void {
  let t = Math.max(threshold, state.zeroThreshold);
  for (;;) {
    let moved = false;
    for (const [key, count] of state.buckets) {
      const index = key >> 1;
      if (nativeUpperBound(index - 1, state.schema) < t) {
        t = Math.max(t, nativeUpperBound(index, state.schema));
        state.zeroCount += count;
        state.buckets.delete(key);
        moved = true;
      }
    }
    if (!moved) break;
  }
  state.zeroThreshold = t;
}

/** Makes `state` hold at most `limit` buckets: lower schemas, then (at -4) widen the zero bucket. */
function fit(state: NativeState, limit: number): void {
  while (state.buckets.size > limit) {
    if (state.schema > NATIVE_SCHEMA_MIN) {
      lowerSchema(state, state.schema - 1);
      continue;
    }
    let lowest = Number.POSITIVE_INFINITY;
    for (const key of state.buckets.keys()) lowest = Math.min(lowest, key >> 1);
    widenZero(state, nativeUpperBound(lowest, state.schema));
  }
}

/** Encodes `state` into `out[start]...` (the native slots), pairs in key order. */
function encodeState(
  state: NativeState,
  out: { [index: number]: number },
  start: number,
  settings: NativeHistogramSettings,
): void {
  out[start + REDUCTIONS] = settings.schema - state.schema;
  out[start + ZERO_THRESHOLD] =
    state.zeroThreshold > settings.zeroThreshold ? state.zeroThreshold : 0;
  out[start + ZERO_COUNT] = state.zeroCount;
  const keys = [...state.buckets.keys()].sort((a, b) => a - b);
  out[start + USED] = keys.length;
  for (let k = 0; k < settings.maxBuckets; k++) {
    const key = keys[k];
    out[start + PAIRS + 2 * k] = key ?? 0;
    out[start + PAIRS + 2 * k + 1] = key === undefined ? 0 : (state.buckets.get(key) as number);
  }
}

/**
 * Brings `state` (recorded under `from`, or an empty state) to the settings `to`: schema no
 * higher than `to.schema`, zero threshold at least `to.zeroThreshold`, at most `to.maxBuckets`.
 */
function conform(state: NativeState, to: NativeHistogramSettings): void {
  lowerSchema(state, Math.min(state.schema, to.schema));
  if (state.zeroThreshold < to.zeroThreshold) widenZero(state, to.zeroThreshold);
  fit(state, to.maxBuckets);
}

// ---------------------------------------------------------------------------------------------
// Merging and carrying

/**
 * Adds the native slots at `src[srcStart]` into those at `dst[dstStart]`, both laid out under
 * `settings`: both go to the lower schema and the wider zero threshold (buckets combined
 * exactly), counts add, and the result is fitted to `maxBuckets` like a recording series.
 */
export function nativeMergeInto(
  dst: Float64Array,
  dstStart: number,
  src: ArrayLike<number>,
  srcStart: number,
  settings: NativeHistogramSettings,
): void {
  if (mergeInPlace(dst, dstStart, src, srcStart, settings)) return;
  const a = decodeState(dst, dstStart, settings);
  const b = decodeState(src, srcStart, settings);
  const schema = Math.min(a.schema, b.schema);
  lowerSchema(a, schema);
  lowerSchema(b, schema);
  a.zeroCount += b.zeroCount;
  for (const [key, count] of b.buckets) a.buckets.set(key, (a.buckets.get(key) ?? 0) + count);
  if (a.zeroThreshold !== b.zeroThreshold) {
    widenZero(a, Math.max(a.zeroThreshold, b.zeroThreshold));
  }
  fit(a, settings.maxBuckets);
  encodeState(a, dst, dstStart, settings);
}

/** Most pair comparisons {@link mergeInPlace} makes before leaving a merge to the general path. */
const IN_PLACE_COMPARISONS = 4096;
/** Scratch of {@link mergeInPlace}: the dst pair of each source pair. */
const MATCH = new Int32Array(NATIVE_MAX_BUCKETS_LIMIT);

/**
 * The common case of a merge, without decoding: both series at the same schema and zero
 * threshold, and room in `dst` for every bucket `src` adds. Pairs are matched by a linear search
 * (series of a few dozen buckets; larger ones take the general path). Returns false, having
 * changed nothing, when the case does not apply.
 */
function mergeInPlace(
  dst: Float64Array,
  dstStart: number,
  src: ArrayLike<number>,
  srcStart: number,
  settings: NativeHistogramSettings,
): boolean {
  if (
    dst[dstStart + REDUCTIONS] !== src[srcStart + REDUCTIONS] ||
    dst[dstStart + ZERO_THRESHOLD] !== src[srcStart + ZERO_THRESHOLD]
  ) {
    return false;
  }
  const max = settings.maxBuckets;
  const dstUsed = dst[dstStart + USED] as number;
  const srcUsed = src[srcStart + USED] as number;
  if (!(Number.isInteger(dstUsed) && dstUsed >= 0 && dstUsed <= max)) return false;
  if (!(Number.isInteger(srcUsed) && srcUsed >= 0 && srcUsed <= max)) return false;
  if (dstUsed * srcUsed > IN_PLACE_COMPARISONS) return false;
  const dstPairs = dstStart + PAIRS;
  const srcPairs = srcStart + PAIRS;
  // First pass: every source pair is well formed, and the new keys fit. `MATCH[k]` is the dst
  // pair of source pair k, or -1 for a key dst does not hold yet.
  let added = 0;
  for (let k = 0; k < srcUsed; k++) {
    const key = src[srcPairs + 2 * k] as number;
    const count = src[srcPairs + 2 * k + 1] as number;
    if (!isKey(key) || !Number.isFinite(count) || !(count > 0)) return false;
    let j = 0;
    while (j < dstUsed && dst[dstPairs + 2 * j] !== key) j++;
    MATCH[k] = j < dstUsed ? j : -1;
    if (j === dstUsed && dstUsed + ++added > max) return false;
  }
  const zeroCount = src[srcStart + ZERO_COUNT] as number;
  if (!Number.isFinite(zeroCount) || zeroCount < 0) return false;
  // Second pass: add; new keys are appended (searched among the appended ones only, so a key
  // twice in the source, which no writer produces, still lands in one pair).
  let used = dstUsed;
  for (let k = 0; k < srcUsed; k++) {
    const count = src[srcPairs + 2 * k + 1] as number;
    let j = MATCH[k] as number;
    if (j < 0) {
      const key = src[srcPairs + 2 * k] as number;
      j = dstUsed;
      while (j < used && dst[dstPairs + 2 * j] !== key) j++;
      if (j === used) {
        dst[dstPairs + 2 * j] = key;
        dst[dstPairs + 2 * j + 1] = 0;
        used++;
      }
    }
    dst[dstPairs + 2 * j + 1]! += count;
  }
  dst[dstStart + USED] = used;
  dst[dstStart + ZERO_COUNT]! += zeroCount;
  return true;
}

/**
 * Carries the native slots of a series recorded under `from` into `out[outStart]...` laid out
 * under `to` (a rolling deploy changed the option). Exact where the new settings are coarser or
 * equal; where they are finer the series keeps its coarser schema. (A series recorded without
 * the option is seeded from its classic buckets instead: {@link nativeFromClassic}.)
 */
export function nativeCarry(
  data: ArrayLike<number>,
  start: number,
  from: NativeHistogramSettings,
  out: Float64Array,
  outStart: number,
  to: NativeHistogramSettings,
): void {
  const state = decodeState(data, start, from);
  conform(state, to);
  encodeState(state, out, outStart, to);
}

/**
 * Fills the native slots `out[outStart]...` (laid out under `to`) from a series recorded under
 * a definition without the native option: its classic buckets `data[start]...` (bounds
 * `bounds`, then +Inf). Each bucket's count goes to the native bucket holding its bound (the
 * zero bucket when the bound lies within the zero threshold; +Inf: the bucket of the largest
 * float), so every observation lands in a bucket whose upper end is at or above its value, as
 * classic re-bucketing does, and the native buckets hold every observation the count does:
 * Prometheus refuses a native histogram whose count differs from its buckets' total.
 */
export function nativeFromClassic(
  data: ArrayLike<number>,
  start: number,
  bounds: readonly number[],
  out: Float64Array,
  outStart: number,
  to: NativeHistogramSettings,
): void {
  const state: NativeState = {
    schema: to.schema,
    zeroThreshold: to.zeroThreshold,
    zeroCount: 0,
    buckets: new Map(),
  };
  for (let i = 0; i <= bounds.length; i++) {
    const count = data[start + i] ?? 0;
    if (!Number.isFinite(count) || !(count > 0)) continue;
    const bound = i < bounds.length ? (bounds[i] as number) : Number.MAX_VALUE;
    if (bound <= to.zeroThreshold && bound >= -to.zeroThreshold) {
      state.zeroCount += count;
      continue;
    }
    const key =
      bound > 0
        ? 2 * nativeBucketIndex(bound, to.schema)
        : 2 * nativeBucketIndex(-bound, to.schema) + 1;
    state.buckets.set(key, (state.buckets.get(key) ?? 0) + count);
  }
  fit(state, to.maxBuckets);
  encodeState(state, out, outStart, to);
}

/**
 * The snapshot of one series' native slots at `data[start]`; `sum` and `count` come from the
 * classic slots.
 */
export function nativeSnapshot(
  data: ArrayLike<number>,
  start: number,
  settings: NativeHistogramSettings,
  sum: number,
  count: number,
): NativeHistogramSnapshot {
  const state = decodeState(data, start, settings);
  const positive: [number, number][] = [];
  const negative: [number, number][] = [];
  for (const [key, c] of state.buckets) (key & 1 ? negative : positive).push([key >> 1, c]);
  positive.sort((x, y) => x[0] - y[0]);
  negative.sort((x, y) => x[0] - y[0]);
  return {
    schema: state.schema,
    zeroThreshold: state.zeroThreshold,
    zeroCount: state.zeroCount,
    count,
    sum,
    positive,
    negative,
  };
}

/** The pair key of a nonzero finite `value` at `schema` (see the module comment). */
function keyOf(value: number, schema: number): number {
  return value > 0
    ? 2 * nativeBucketIndex(value, schema)
    : 2 * nativeBucketIndex(-value, schema) + 1;
}

// ---------------------------------------------------------------------------------------------
// Recording

/**
 * Records observations into the native slots of one series (a histogram child owns one). The
 * hot path is a bucket index, a cached pair position that is checked against the slots, and
 * one slot addition (the classic slots take the count and sum); a new bucket appends a pair; a full series is refitted (rare).
 */
export class NativeRecorder {
  private readonly cells: Cells;
  private readonly base: number;
  private readonly settings: NativeHistogramSettings;
  /**
   * Pair position + 1 by `key & 63` (0 = none), a direct-mapped cache only: a hit is used only
   * when the slot at that position still holds the key, so a collision, a refit or another
   * writer of the same cells (two metric objects of one name on one FileStore) cannot misdirect
   * a count. Cheaper than a Map: no hashing, and 256 bytes per series.
   */
  private readonly positions = new Int32Array(64);

  /** @param base index of the first native slot in `cells` */
  constructor(cells: Cells, base: number, settings: NativeHistogramSettings) {
    this.cells = cells;
    this.base = base;
    this.settings = settings;
  }

  /**
   * Counts one finite observation `value`. The fast path reads two slots (the reductions and
   * the key at the cached pair position) and adds to a third. It does not read the widened
   * zero threshold: a pair exists only for a bucket above it (an observation goes to the zero
   * bucket before its bucket could be created, and widening moves every bucket reaching below
   * the new threshold into the zero bucket), so a value whose bucket has a pair is not in the
   * zero bucket. (One exception: a series carried to a coarser definition may be lowered after
   * its threshold widened, leaving a bucket that straddles the threshold; a value in both
   * ranges may then go to that bucket, which holds it too.) Nor does it read the pair count: pairs past it are zero (the layout is
   * written whole by a refit), so only key 0 needs that check.
   */
  observe(value: number): void {
    const settings = this.settings;
    const configured = settings.zeroThreshold;
    if (value <= configured && value >= -configured) {
      this.cells.add(this.base + ZERO_COUNT, 1);
      return;
    }
    const cells = this.cells;
    const base = this.base;
    const key = keyOf(value, settings.schema - cells.get(base + REDUCTIONS));
    const cached = (this.positions[key & 63] as number) - 1;
    if (
      cached >= 0 &&
      cells.get(base + PAIRS + 2 * cached) === key &&
      (key !== 0 || cached < cells.get(base + USED))
    ) {
      cells.add(base + PAIRS + 2 * cached + 1, 1);
      return;
    }
    this.observeSlowly(value, key);
  }

  /** {@link observe} past the cached position: the zero bucket, a search, an append, a refit. */
  private observeSlowly(value: number, key: number): void {
    const cells = this.cells;
    const base = this.base;
    // A refit frees a pair, so the second attempt always lands; the bound only matters for
    // cells that drop writes (a closed store), where looping on would never end.
    for (let attempt = 0; attempt < 2; attempt++) {
      const widened = cells.get(base + ZERO_THRESHOLD);
      if (widened > 0 && value <= widened && value >= -widened) {
        cells.add(base + ZERO_COUNT, 1);
        return;
      }
      // After a refit the schema may be lower: the key again.
      if (attempt > 0) key = keyOf(value, this.settings.schema - cells.get(base + REDUCTIONS));
      if (this.bump(key) || attempt > 0) return;
      this.refit();
    }
  }

  /**
   * Adds 1 to the pair of `key` (searched: the cached position missed), appending it when there
   * is room and noting its position; false when full.
   */
  private bump(key: number): boolean {
    const cells = this.cells;
    const pairs = this.base + PAIRS;
    const used = cells.get(this.base + USED);
    const line = key & 63;
    for (let k = 0; k < used; k++) {
      if (cells.get(pairs + 2 * k) === key) {
        this.positions[line] = k + 1;
        cells.add(pairs + 2 * k + 1, 1);
        return true;
      }
    }
    if (used >= this.settings.maxBuckets) return false;
    cells.set(pairs + 2 * used, key);
    cells.set(pairs + 2 * used + 1, 1);
    cells.set(this.base + USED, used + 1);
    this.positions[line] = used + 1;
    return true;
  }

  /** Makes room for one more bucket (schema - 1, or a wider zero bucket at -4). */
  private refit(): void {
    const size = nativeSlotCount(this.settings);
    const image = new Float64Array(size);
    for (let i = 0; i < size; i++) image[i] = this.cells.get(this.base + i);
    const state = decodeState(image, 0, this.settings);
    fit(state, this.settings.maxBuckets - 1);
    encodeState(state, image, 0, this.settings);
    for (let i = 0; i < size; i++) this.cells.set(this.base + i, image[i] as number);
    this.positions.fill(0);
  }
}
