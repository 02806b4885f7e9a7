/**
 * Mergeable quantile sketch for summaries, stored in a summary series' float64 slots so that
 * the windows of many processes merge by adding aligned windows.
 *
 * ## Mapping (DDSketch)
 * A non-zero value `v` falls into the bin with key `k = ceil(log_γ |v|)`, γ = 1.02, i.e. the
 * bin `(γ^(k-1), γ^k]`. A bin is reported as `2·γ^k / (γ+1)`, which is within
 * α = (γ-1)/(γ+1) ≈ 0.990 % of every value in the bin. Zero (and -0) has its own bin; negative
 * values use a second, mirrored set of bins keyed by `|v|`.
 *
 * ## Accuracy guarantee (precise)
 * Let `x` be the element of rank `floor(q·(n-1))` (0-based) among the `n` observations the
 * quantile covers. The reported q-quantile `r` satisfies `|r - x| <= 0.0099·|x|`, provided:
 * - `x` is 0, or `x > 0` and `x >= maxPos / γ^(BINS-1)` where `maxPos` is the largest
 *   positive observation in any window covering `x` (BINS = {@link SKETCH_BINS_PER_SIGN} = 1000,
 *   so γ^999 ≈ 3.9e8: positive values may span 8.5 decades before anything collapses), or
 *   `x < 0` and `|x| >= maxNeg / γ^(BINS-1)` with `maxNeg` the largest magnitude of a negative
 *   observation in such a window;
 * - or `x` is ±Infinity, which has its own count per sign and is reported exactly.
 * Values of one sign whose magnitude is more than γ^999 below that sign's largest magnitude in
 * the same window are collapsed into that window's lowest bin (DDSketch's "collapse lowest"
 * strategy); they still count towards ranks, so quantiles above them stay exact to α, and a
 * quantile that lands in the collapsed bin reports a magnitude too large by at most the
 * collapse. Merging (across windows or processes) never adds error: a reader combines the bins
 * of every live window by key, and {@link sketchMergeInto} collapses only under the same rule.
 *
 * ## Slot budget (the trade-off)
 * A window takes {@link SKETCH_WINDOW_SLOTS} = 2010 float64 slots (16 KB): epoch, counts of
 * zero, -Infinity and +Infinity and, per sign, offset/lowest key/highest key plus 1000 bins. The number of bins per sign
 * trades file size against dynamic range: 1000 bins cover 8.5 decades per sign at 1 %, which
 * fits latencies from microseconds to hours or sizes from bytes to gigabytes in one series;
 * 500 bins would halve the file and cover only 4.3 decades. A summary with the default window
 * (5 age buckets) takes 80 KB per series per process; one with `maxAgeSeconds: 0` 16 KB.
 *
 * ## Windows
 * With `maxAgeSeconds > 0` time is cut into windows of `maxAgeSeconds·1000/ageBuckets` ms
 * aligned to the Unix epoch: window number `e = floor(nowMs / windowMs)` lives in window
 * position `e mod ageBuckets` and records `e`. Every process therefore rotates in step and the
 * same window of two processes sits in the same slots. A window is live at `now` when
 * `E - ageBuckets < e <= E` with `E` the current window number, so quantiles cover the last
 * `maxAgeSeconds` minus at most one window length. Stale windows are ignored by readers and
 * overwritten by the next writer that reaches their position, so the data of a dead process
 * (or an archive it was compacted into) ages out without anyone deleting it. With
 * `maxAgeSeconds = 0` there is one window that never expires.
 *
 * ## Bins inside a window (circular)
 * The 1000 bins of a sign hold the keys `[offset, offset+1000)`; key `k` lives in bin
 * `k mod 1000`, so moving the range never moves a bin: widening it only rewrites `offset`, and
 * collapsing touches just the collapsed bins. `lowest`/`highest` bound the non-zero bins
 * (every bin outside them is zero); all three are stored plus {@link KEY_BIAS} so that an
 * all-zero side reads as empty.
 *
 * ## Hot path and torn reads
 * {@link sketchObserve} allocates nothing: in the common case it reads 4 slots and writes 1-2
 * (epoch check, the bin, and the lowest/highest key when it moves). Starting a new window
 * clears only the bins between lowest and highest of the stale window. A reader in another
 * process may see a window half updated (the file store publishes once per event-loop turn,
 * a read can overlap the write); readers accept only finite positive counts inside a
 * consistent key range and never iterate more than 1000 bins per sign, so a torn window yields
 * at worst a quantile that misses or misplaces that turn's updates, never NaN or an exception.
 */
import { describeValue, InvalidOptionError } from './errors.js';
import type { Cells } from './store.js';
import type { SummarySettings } from './types.js';

/** γ of the logarithmic mapping: bin `k` holds `(γ^(k-1), γ^k]`. */
export const SKETCH_GAMMA = 1.02;
/** Relative accuracy of every quantile inside the guarantee: (γ-1)/(γ+1) ≈ 0.0099. */
export const SKETCH_RELATIVE_ACCURACY = (SKETCH_GAMMA - 1) / (SKETCH_GAMMA + 1);
/** Bins per sign per window; see the module comment for the range/size trade-off. */
export const SKETCH_BINS_PER_SIGN = 1000;

const LN_GAMMA = Math.log(SKETCH_GAMMA);
const BINS = SKETCH_BINS_PER_SIGN;
/** Keys of finite non-zero doubles lie in about [-37700, 35900]; biased keys are > 0. */
const KEY_BIAS = 1 << 17;
const KEY_MIN = Math.floor(Math.log(Number.MIN_VALUE) / LN_GAMMA) - 1;
const KEY_MAX = Math.ceil(Math.log(Number.MAX_VALUE) / LN_GAMMA) + 1;
/** Factor turning γ^k into the bin's representative 2γ^k/(γ+1), in log space. */
const LN_REPRESENTATIVE = Math.log(2 / (SKETCH_GAMMA + 1));

// Window layout, relative to the window's first slot.
const W_EPOCH = 0; // window number + 1; 0 = never written
const W_ZERO = 1; // count of zeros
const W_NEG_INF = 2; // count of -Infinity
const W_POS_INF = 3; // count of +Infinity
const W_POS = 4; // positive side
const SIDE_OFFSET = 0; // lowest key the bins can hold, + KEY_BIAS
const SIDE_LOW = 1; // lowest non-empty key, + KEY_BIAS
const SIDE_HIGH = 2; // highest non-empty key, + KEY_BIAS; 0 = side empty
const SIDE_BINS = 3;
const SIDE_SLOTS = SIDE_BINS + BINS;
const W_NEG = W_POS + SIDE_SLOTS; // negative side (keys of |v|)

/** Float64 slots one window occupies (2010). */
export const SKETCH_WINDOW_SLOTS = W_NEG + SIDE_SLOTS;

/**
 * Most windows (`ageBuckets`) a summary may keep: 1000 windows take 16 MB per series per
 * process, beyond any sensible sliding window. Summary checks this bound up front.
 */
export const SKETCH_MAX_AGE_BUCKETS = 1000;

/**
 * Shortest window, in milliseconds, a summary may rotate through. Windows are numbered by
 * `Date.now()`, which counts whole milliseconds: a shorter window is never seen in time, and
 * below about 1e-3 ms its number passes 2^53 and stops being exact (quantiles turn NaN).
 * Summary checks `maxAgeSeconds·1000/ageBuckets >= SKETCH_MIN_WINDOW_MS` up front.
 */
export const SKETCH_MIN_WINDOW_MS = 1;

/**
 * Number of windows a summary keeps: `ageBuckets`, or 1 when `maxAgeSeconds` is 0.
 * Throws {@link InvalidOptionError} for settings no summary could have been built with.
 */
export function sketchWindowCount(settings: SummarySettings): number {
  const { maxAgeSeconds, ageBuckets } = settings;
  if (typeof maxAgeSeconds !== 'number' || !Number.isFinite(maxAgeSeconds) || maxAgeSeconds < 0) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `maxAgeSeconds must be a finite number >= 0 (0 = no window), got ${describeValue(maxAgeSeconds)}`,
    );
  }
  if (!Number.isInteger(ageBuckets) || ageBuckets < 1 || ageBuckets > SKETCH_MAX_AGE_BUCKETS) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `ageBuckets must be an integer from 1 to ${SKETCH_MAX_AGE_BUCKETS}, got ${describeValue(ageBuckets)}`,
    );
  }
  return maxAgeSeconds === 0 ? 1 : ageBuckets;
}

/** Slots all sketch windows of one summary series take. */
export function sketchSize(settings: SummarySettings): number {
  return sketchWindowCount(settings) * SKETCH_WINDOW_SLOTS;
}

/** Window number of `nowMs` (0 when there is no sliding window). */
function epochOf(settings: SummarySettings, nowMs: number): number {
  if (settings.maxAgeSeconds === 0) return 0;
  return Math.floor(nowMs / ((settings.maxAgeSeconds * 1000) / settings.ageBuckets));
}

/** Key of a finite positive magnitude, clamped to the keys finite doubles map to. */
function keyOf(magnitude: number): number {
  const k = Math.ceil(Math.log(magnitude) / LN_GAMMA);
  // Infinity has its own slots; the clamp guards the float edges of subnormals and MAX_VALUE.
  return k > KEY_MAX ? KEY_MAX : Math.max(k, KEY_MIN);
}

/** Representative value of key `k` (positive). */
function keyValue(k: number): number {
  const v = Math.exp(k * LN_GAMMA + LN_REPRESENTATIVE);
  return Math.min(v, Number.MAX_VALUE);
}

/** Bin slot of key `k` inside a side (circular). */
function binOf(k: number): number {
  const r = k % BINS;
  return r < 0 ? r + BINS : r;
}

/** Records `value` at time `nowMs` into the windows that start at slot `base` of `cells`. */
export function sketchObserve(
  cells: Cells,
  base: number,
  settings: SummarySettings,
  value: number,
  nowMs: number,
): void {
  const epoch = epochOf(settings, nowMs);
  const windows = settings.maxAgeSeconds === 0 ? 1 : settings.ageBuckets;
  const w = base + (epoch % windows) * SKETCH_WINDOW_SLOTS;
  if (cells.get(w + W_EPOCH) !== epoch + 1) {
    clearWindow(cells, w);
    cells.set(w + W_EPOCH, epoch + 1);
  }
  if (value > 0) {
    if (value < Number.POSITIVE_INFINITY) addKey(cells, w + W_POS, keyOf(value), 1);
    else cells.add(w + W_POS_INF, 1);
  } else if (value < 0) {
    if (value > Number.NEGATIVE_INFINITY) addKey(cells, w + W_NEG, keyOf(-value), 1);
    else cells.add(w + W_NEG_INF, 1);
  } else if (value === 0) {
    cells.add(w + W_ZERO, 1);
  }
  // NaN is rejected by the metric; should one slip through it is dropped, not recorded.
}

/** Zeroes a window's used slots (bins outside lowest..highest are already zero). */
function clearWindow(cells: Cells, w: number): void {
  cells.set(w + W_ZERO, 0);
  cells.set(w + W_NEG_INF, 0);
  cells.set(w + W_POS_INF, 0);
  clearSide(cells, w + W_POS);
  clearSide(cells, w + W_NEG);
}

function clearSide(cells: Cells, s: number): void {
  const range = readRange(cells, s);
  if (range !== undefined) {
    for (let k = range.low; k <= range.high; k++) cells.set(s + SIDE_BINS + binOf(k), 0);
  } else if (cells.get(s + SIDE_HIGH) !== 0) {
    // A damaged range (only possible through a torn write or foreign data): clear every bin.
    for (let i = 0; i < BINS; i++) cells.set(s + SIDE_BINS + i, 0);
  }
  cells.set(s + SIDE_OFFSET, 0);
  cells.set(s + SIDE_LOW, 0);
  cells.set(s + SIDE_HIGH, 0);
}

interface KeyRange {
  offset: number;
  low: number;
  high: number;
}

/**
 * Reads a side's key range, or undefined when the side is empty or its offset is unusable
 * (damaged). A torn or damaged lowest/highest key widens the range to every bin the offset
 * allows: bins outside the true range are zero, so reading them costs time, not accuracy.
 */
function readRange(cells: Pick<Cells, 'get'>, s: number): KeyRange | undefined {
  const highStored = cells.get(s + SIDE_HIGH);
  if (highStored === 0) return undefined;
  const offset = cells.get(s + SIDE_OFFSET) - KEY_BIAS;
  if (!Number.isInteger(offset) || offset < KEY_MIN - BINS || offset > KEY_MAX) return undefined;
  const top = offset + BINS - 1;
  let low = cells.get(s + SIDE_LOW) - KEY_BIAS;
  let high = highStored - KEY_BIAS;
  if (!Number.isInteger(low) || low < offset || low > top) low = offset;
  if (!Number.isInteger(high) || high < low || high > top) high = top;
  return { offset, low, high };
}

/**
 * Adds `count` at key `k` of the side at slot `s`, moving or collapsing the side's range when
 * `k` is outside it. The fast path (k inside the range) is one `add` and at most one `set`.
 */
function addKey(cells: Cells, s: number, k: number, count: number): void {
  const highStored = cells.get(s + SIDE_HIGH);
  if (highStored !== 0) {
    const offset = cells.get(s + SIDE_OFFSET) - KEY_BIAS;
    if (k >= offset && k < offset + BINS) {
      cells.add(s + SIDE_BINS + binOf(k), count);
      if (k > highStored - KEY_BIAS) cells.set(s + SIDE_HIGH, k + KEY_BIAS);
      else if (k < cells.get(s + SIDE_LOW) - KEY_BIAS) cells.set(s + SIDE_LOW, k + KEY_BIAS);
      return;
    }
  }
  widen(cells, s, k, k);
  const offset = cells.get(s + SIDE_OFFSET) - KEY_BIAS;
  cells.add(s + SIDE_BINS + binOf(Math.max(k, offset)), count);
}

/**
 * Makes the side's range cover `[lo, hi]` as far as {@link BINS} allows. When everything fits,
 * the range is centred on the data so later values rarely need another move (no bin is
 * written). Otherwise the top is kept and keys below `hi - BINS + 1` collapse into that lowest
 * key; only the collapsed bins are written. Afterwards lowest/highest include `[lo, hi]`
 * (clamped to the new range).
 */
function widen(cells: Cells, s: number, lo: number, hi: number): void {
  const range = readRange(cells, s);
  if (range === undefined && cells.get(s + SIDE_HIGH) !== 0) clearSide(cells, s);
  const low = range === undefined ? lo : Math.min(range.low, lo);
  const high = range === undefined ? hi : Math.max(range.high, hi);
  let offset: number;
  let newLow = low;
  if (high - low < BINS) {
    offset = low - Math.floor((BINS - 1 - (high - low)) / 2);
  } else {
    offset = high - BINS + 1;
    newLow = offset;
    if (range !== undefined && range.low < offset) {
      let collapsed = 0;
      const last = Math.min(range.high, offset - 1);
      for (let k = range.low; k <= last; k++) {
        const slot = s + SIDE_BINS + binOf(k);
        collapsed += cells.get(slot);
        cells.set(slot, 0);
      }
      cells.add(s + SIDE_BINS + binOf(offset), collapsed);
    }
  }
  cells.set(s + SIDE_OFFSET, offset + KEY_BIAS);
  cells.set(s + SIDE_LOW, newLow + KEY_BIAS);
  cells.set(s + SIDE_HIGH, high + KEY_BIAS);
}

/** Read access to one series' slots, from any array-like. */
function reader(slots: ArrayLike<number>): Pick<Cells, 'get'> {
  return { get: (i) => slots[i] ?? 0 };
}

/** A plausible count (positive, at most 2^53), or 0 for anything a damaged slot may hold. */
function countAt(slots: Pick<Cells, 'get'>, i: number): number {
  const c = slots.get(i);
  return c > 0 && c <= Number.MAX_SAFE_INTEGER ? c : 0;
}

/** Window positions of `slots` that are live at `nowMs`, with their window number. */
function liveWindows(
  slots: Pick<Cells, 'get'>,
  base: number,
  settings: SummarySettings,
  nowMs: number,
): number[] {
  const windows = sketchWindowCount(settings);
  const current = epochOf(settings, nowMs);
  const live: number[] = [];
  for (let i = 0; i < windows; i++) {
    const w = base + i * SKETCH_WINDOW_SLOTS;
    const epoch = slots.get(w + W_EPOCH) - 1;
    if (Number.isInteger(epoch) && epoch > current - windows && epoch <= current) {
      if (epoch % windows === i) live.push(w);
    }
  }
  return live;
}

/**
 * Merges the sketch windows (at slot `base`) of several series of one summary, typically one
 * per process, and returns one value per `settings.percentiles` entry (NaN when no
 * observation falls in the current window). The q-quantile is the element of rank
 * `floor(q·(n-1))`, within the accuracy stated in the module comment.
 */
export function sketchQuantiles(
  series: readonly ArrayLike<number>[],
  base: number,
  settings: SummarySettings,
  nowMs: number,
): number[] {
  const positive = new Map<number, number>();
  const negative = new Map<number, number>();
  let zeros = 0;
  let negInf = 0;
  let posInf = 0;
  for (const one of series) {
    const slots = reader(one);
    for (const w of liveWindows(slots, base, settings, nowMs)) {
      zeros += countAt(slots, w + W_ZERO);
      negInf += countAt(slots, w + W_NEG_INF);
      posInf += countAt(slots, w + W_POS_INF);
      collectSide(slots, w + W_POS, positive);
      collectSide(slots, w + W_NEG, negative);
    }
  }
  // Ascending value order: negatives by descending magnitude, zero, positives ascending.
  const keys: number[] = [];
  const counts: number[] = [];
  if (negInf > 0) {
    keys.push(Number.NEGATIVE_INFINITY);
    counts.push(negInf);
  }
  for (const k of [...negative.keys()].sort((a, b) => b - a)) {
    keys.push(-keyValue(k));
    counts.push(negative.get(k)!);
  }
  if (zeros > 0) {
    keys.push(0);
    counts.push(zeros);
  }
  for (const k of [...positive.keys()].sort((a, b) => a - b)) {
    keys.push(keyValue(k));
    counts.push(positive.get(k)!);
  }
  if (posInf > 0) {
    keys.push(Number.POSITIVE_INFINITY);
    counts.push(posInf);
  }
  let total = 0;
  for (const c of counts) total += c;
  return settings.percentiles.map((q) => {
    if (total === 0) return Number.NaN;
    const rank = Math.min(Math.max(q, 0), 1) * (total - 1);
    let cumulative = 0;
    for (let i = 0; i < counts.length; i++) {
      cumulative += counts[i]!;
      if (cumulative > rank) return keys[i]!;
    }
    return keys[keys.length - 1]!;
  });
}

/** Adds a side's bins into `into` by key. */
function collectSide(slots: Pick<Cells, 'get'>, s: number, into: Map<number, number>): void {
  const range = readRange(slots, s);
  if (range === undefined) return;
  for (let k = range.low; k <= range.high; k++) {
    const c = countAt(slots, s + SIDE_BINS + binOf(k));
    if (c > 0) into.set(k, (into.get(k) ?? 0) + c);
  }
}

/** Observation count of the live windows of several series (the quantiles' `n`). */
export function sketchCount(
  series: readonly ArrayLike<number>[],
  base: number,
  settings: SummarySettings,
  nowMs: number,
): number {
  let total = 0;
  for (const one of series) {
    const slots = reader(one);
    for (const w of liveWindows(slots, base, settings, nowMs)) {
      total += countAt(slots, w + W_ZERO) + countAt(slots, w + W_NEG_INF);
      total += countAt(slots, w + W_POS_INF);
      for (const s of [w + W_POS, w + W_NEG]) {
        const range = readRange(slots, s);
        if (range === undefined) continue;
        for (let k = range.low; k <= range.high; k++) {
          total += countAt(slots, s + SIDE_BINS + binOf(k));
        }
      }
    }
  }
  return total;
}

/**
 * Adds the windows of `src` into `dst` (both at slot `base`), keeping only windows still
 * inside the sliding window at `nowMs`. Used by compaction to fold a dead process in, and by a
 * store to merge processes into one series. A live `src` window replaces a stale `dst` window
 * at its position and adds into a `dst` window of the same number; windows of `dst` that are
 * stale stay as they are (readers ignore them). Collapsing follows the module comment's rule,
 * so the merged sketch keeps the same guarantee as one that saw every observation.
 */
export function sketchMergeInto(
  dst: Float64Array,
  src: ArrayLike<number>,
  base: number,
  settings: SummarySettings,
  nowMs: number,
): void {
  const to: Cells = {
    add: (i, d) => {
      dst[i] = (dst[i] ?? 0) + d;
    },
    set: (i, v) => {
      dst[i] = v;
    },
    get: (i) => dst[i] ?? 0,
  };
  const from = reader(src);
  for (const w of liveWindows(from, base, settings, nowMs)) {
    const epoch = from.get(w + W_EPOCH);
    if (to.get(w + W_EPOCH) !== epoch) {
      clearWindow(to, w);
      to.set(w + W_EPOCH, epoch);
    }
    to.add(w + W_ZERO, countAt(from, w + W_ZERO));
    to.add(w + W_NEG_INF, countAt(from, w + W_NEG_INF));
    to.add(w + W_POS_INF, countAt(from, w + W_POS_INF));
    mergeSide(to, from, w + W_POS);
    mergeSide(to, from, w + W_NEG);
  }
}

function mergeSide(to: Cells, from: Pick<Cells, 'get'>, s: number): void {
  const range = readRange(from, s);
  if (range === undefined) return;
  widen(to, s, range.low, range.high);
  const offset = to.get(s + SIDE_OFFSET) - KEY_BIAS;
  for (let k = range.low; k <= range.high; k++) {
    const c = countAt(from, s + SIDE_BINS + binOf(k));
    if (c > 0) to.add(s + SIDE_BINS + binOf(Math.max(k, offset)), c);
  }
}
