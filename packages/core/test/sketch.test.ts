import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError } from '../src/errors.js';
import {
  SKETCH_RELATIVE_ACCURACY,
  SKETCH_WINDOW_SLOTS,
  sketchCount,
  sketchMergeInto,
  sketchObserve,
  sketchQuantiles,
  sketchSize,
} from '../src/sketch.js';
import type { Cells } from '../src/store.js';
import type { SummarySettings } from '../src/types.js';
import { seededRandom as prng } from './helpers.js';

function normal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A series as a store would hand it out: plain float64 slots behind the Cells interface. */
class ArrayCells implements Cells {
  readonly slots: Float64Array;
  constructor(size: number) {
    this.slots = new Float64Array(size);
  }
  add(index: number, delta: number): void {
    this.slots[index] = this.slots[index]! + delta;
  }
  set(index: number, value: number): void {
    this.slots[index] = value;
  }
  get(index: number): number {
    return this.slots[index]!;
  }
}

const PERCENTILES = [0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];
const ALL_TIME: SummarySettings = { percentiles: PERCENTILES, maxAgeSeconds: 0, ageBuckets: 1 };
const T0 = 1_700_000_000_000;

/** Exact q-quantile with the sketch's rank rule: element floor(q·(n-1)) of the sorted data. */
function exactQuantiles(values: readonly number[], percentiles: readonly number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  return percentiles.map((q) => sorted[Math.floor(q * (sorted.length - 1))]!);
}

function assertWithinAccuracy(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const x = expected[i]!;
    const r = actual[i]!;
    const error = Math.abs(r - x);
    assert.ok(
      error <= SKETCH_RELATIVE_ACCURACY * Math.abs(x) * (1 + 1e-9),
      `${what}: quantile ${PERCENTILES[i]} is ${r}, exact ${x} (relative error ${error / Math.abs(x)})`,
    );
  }
}

function sketchOf(values: readonly number[], settings: SummarySettings, nowMs = T0): ArrayCells {
  const cells = new ArrayCells(sketchSize(settings));
  for (const v of values) sketchObserve(cells, 0, settings, v, nowMs);
  return cells;
}

const DISTRIBUTIONS: Record<string, (random: () => number) => number> = {
  uniform: (random) => random() * 100,
  lognormal: (random) => Math.exp(normal(random) * 2 - 3),
  bimodal: (random) => (random() < 0.7 ? 0.01 + 0.002 * normal(random) : 5 + normal(random)),
  'normal with negatives': (random) => normal(random) * 50 + 10,
  'heavy tail with zeros': (random) => (random() < 0.1 ? 0 : 1 / (random() + 1e-9)),
};

describe('sketch accuracy', () => {
  for (const [name, draw] of Object.entries(DISTRIBUTIONS)) {
    it(`${name}: every quantile within 1% of the exact quantile`, () => {
      const random = prng(42);
      const values = Array.from({ length: 20_000 }, () => draw(random));
      const cells = sketchOf(values, ALL_TIME);
      const got = sketchQuantiles([cells.slots], 0, ALL_TIME, T0);
      assertWithinAccuracy(got, exactQuantiles(values, PERCENTILES), name);
      assert.equal(sketchCount([cells.slots], 0, ALL_TIME, T0), values.length);
    });
  }

  it('relative accuracy is at most 1%', () => {
    assert.ok(SKETCH_RELATIVE_ACCURACY <= 0.01);
  });

  it('handles zero, negative zero, tiny, huge and infinite values', () => {
    for (const v of [0, -0, 5e-324, 1e-300, 1e-9, 1, 1e300, Number.MAX_VALUE, -1e-300, -1e300]) {
      const cells = sketchOf([v], ALL_TIME);
      const [q] = sketchQuantiles([cells.slots], 0, { ...ALL_TIME, percentiles: [0.5] }, T0);
      assert.ok(
        Math.abs(q! - v) <= SKETCH_RELATIVE_ACCURACY * Math.abs(v) * (1 + 1e-9),
        `${v} came back as ${q}`,
      );
    }
    const inf = sketchOf([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1], ALL_TIME);
    const q = sketchQuantiles([inf.slots], 0, { ...ALL_TIME, percentiles: [0, 0.5, 1] }, T0);
    assert.equal(q[0], Number.NEGATIVE_INFINITY);
    assert.ok(Math.abs(q[1]! - 1) <= 0.01, `1 came back as ${q[1]}`);
    assert.equal(q[2], Number.POSITIVE_INFINITY);
  });

  it('returns NaN for every percentile when nothing was observed', () => {
    const cells = new ArrayCells(sketchSize(ALL_TIME));
    const got = sketchQuantiles([cells.slots], 0, ALL_TIME, T0);
    assert.deepEqual(
      got,
      PERCENTILES.map(() => Number.NaN),
    );
    assert.deepEqual(
      sketchQuantiles([], 0, ALL_TIME, T0),
      PERCENTILES.map(() => Number.NaN),
    );
  });

  it('collapses only values more than 8.5 decades below the maximum, keeping their count', () => {
    // 1000 values at 1e-9 and 1000 at 1e6: 15 decades apart, so the low ones collapse.
    const values = [...Array(1000).fill(1e-9), ...Array(1000).fill(1e6)];
    const cells = sketchOf(values, ALL_TIME);
    const settings = { ...ALL_TIME, percentiles: [0.25, 0.75, 1] };
    const [low, high, max] = sketchQuantiles([cells.slots], 0, settings, T0);
    assert.equal(sketchCount([cells.slots], 0, ALL_TIME, T0), 2000);
    assert.ok(Math.abs(high! - 1e6) <= 1e4 && Math.abs(max! - 1e6) <= 1e4);
    // The collapsed values are reported at the lowest key the range still holds.
    assert.ok(low! > 1e-9 && low! <= 1e6 / 1.02 ** 998, `collapsed low reported as ${low}`);
  });

  it('keeps 1% when values widen the range downwards and upwards one by one', () => {
    const values: number[] = [];
    for (let i = 0; i < 700; i++) values.push(10 * 1.02 ** i, 10 / 1.02 ** (i / 3));
    const cells = sketchOf(values, ALL_TIME);
    const got = sketchQuantiles([cells.slots], 0, ALL_TIME, T0);
    assertWithinAccuracy(got, exactQuantiles(values, PERCENTILES), 'widening');
  });
});

describe('sketch merging', () => {
  it('quantiles of 4 processes are within 1% of the exact quantiles of all their data', () => {
    const random = prng(7);
    const draws = Object.values(DISTRIBUTIONS);
    const all: number[] = [];
    const processes = draws.slice(0, 4).map((draw, p) => {
      const values = Array.from({ length: 5000 + p * 1000 }, () => draw(random) * (p + 1));
      all.push(...values);
      return sketchOf(values, ALL_TIME);
    });
    const exact = exactQuantiles(all, PERCENTILES);
    const direct = sketchQuantiles(
      processes.map((c) => c.slots),
      0,
      ALL_TIME,
      T0,
    );
    assertWithinAccuracy(direct, exact, 'reading 4 series');
    const archive = new Float64Array(sketchSize(ALL_TIME));
    for (const c of processes) sketchMergeInto(archive, c.slots, 0, ALL_TIME, T0);
    assertWithinAccuracy(sketchQuantiles([archive], 0, ALL_TIME, T0), exact, 'merged archive');
    assert.equal(sketchCount([archive], 0, ALL_TIME, T0), all.length);
  });

  it('merging sketches that collapse differently keeps the top within 1% and every count', () => {
    const a = sketchOf(
      Array.from({ length: 100 }, (_, i) => 1e-6 * (i + 1)),
      ALL_TIME,
    );
    const b = sketchOf(
      Array.from({ length: 300 }, (_, i) => 1e5 * (i + 1)),
      ALL_TIME,
    );
    const archive = new Float64Array(sketchSize(ALL_TIME));
    sketchMergeInto(archive, a.slots, 0, ALL_TIME, T0);
    sketchMergeInto(archive, b.slots, 0, ALL_TIME, T0);
    assert.equal(sketchCount([archive], 0, ALL_TIME, T0), 400);
    const settings = { ...ALL_TIME, percentiles: [0.5, 1] };
    const [median, max] = sketchQuantiles([archive], 0, settings, T0);
    const exact = exactQuantiles(
      Array.from({ length: 300 }, (_, i) => 1e5 * (i + 1)),
      [1 / 3, 1],
    );
    // rank floor(0.5·399) = 199 is element 99 of b's 300 values.
    assert.ok(Math.abs(median! - 1e5 * 100) <= 0.0099 * 1e7, `median ${median}`);
    assert.ok(Math.abs(max! - exact[1]!) <= 0.0099 * exact[1]!, `max ${max}`);
  });
});

describe('sketch windows', () => {
  // 60 s in 3 windows of 20 s.
  const WINDOWED: SummarySettings = { percentiles: [0, 0.5, 1], maxAgeSeconds: 60, ageBuckets: 3 };
  const start = Math.ceil(T0 / 20_000) * 20_000; // the start of a window

  it('takes one window per age bucket, one when there is no window', () => {
    assert.equal(sketchSize(WINDOWED), 3 * SKETCH_WINDOW_SLOTS);
    assert.equal(sketchSize({ ...WINDOWED, maxAgeSeconds: 0, ageBuckets: 5 }), SKETCH_WINDOW_SLOTS);
    assert.ok(SKETCH_WINDOW_SLOTS <= 2048);
  });

  it('rejects settings no summary can have', () => {
    for (const bad of [
      { ...WINDOWED, ageBuckets: 0 },
      { ...WINDOWED, ageBuckets: 1.5 },
      { ...WINDOWED, maxAgeSeconds: -1 },
      { ...WINDOWED, maxAgeSeconds: Number.NaN },
    ]) {
      assert.throws(
        () => sketchSize(bad),
        (e) => e instanceof InvalidOptionError && e.code === 'PROMFORK_INVALID_OPTION',
      );
    }
  });

  it('rotates windows and expires them after maxAgeSeconds', () => {
    const cells = new ArrayCells(sketchSize(WINDOWED));
    const at = (ms: number) => sketchQuantiles([cells.slots], 0, WINDOWED, ms);
    sketchObserve(cells, 0, WINDOWED, 1, start);
    sketchObserve(cells, 0, WINDOWED, 2, start + 19_999);
    sketchObserve(cells, 0, WINDOWED, 100, start + 20_000);
    assert.deepEqual(at(start + 30_000).map(Math.round), [1, 2, 100]);
    // The first window is live until the window number moves 3 past it.
    assert.equal(Math.round(at(start + 59_999)[0]!), 1);
    assert.deepEqual(at(start + 60_000).map(Math.round), [100, 100, 100]);
    assert.deepEqual(at(start + 80_000), [Number.NaN, Number.NaN, Number.NaN]);
    // A write into a reused position starts from zero: the old window's data is gone.
    sketchObserve(cells, 0, WINDOWED, 7, start + 60_000);
    assert.deepEqual(at(start + 60_000).map(Math.round), [7, 7, 100]);
    assert.equal(sketchCount([cells.slots], 0, WINDOWED, start + 60_000), 2);
  });

  it('a dead process merged into an archive ages out', () => {
    const dead = new ArrayCells(sketchSize(WINDOWED));
    for (let i = 1; i <= 10; i++) sketchObserve(dead, 0, WINDOWED, i, start + i * 1000);
    const archive = new Float64Array(sketchSize(WINDOWED));
    sketchMergeInto(archive, dead.slots, 0, WINDOWED, start + 15_000);
    assert.equal(sketchCount([archive], 0, WINDOWED, start + 15_000), 10);
    assert.equal(sketchCount([archive], 0, WINDOWED, start + 59_999), 10);
    assert.equal(sketchCount([archive], 0, WINDOWED, start + 60_000), 0);
    // A later merge keeps only the live windows and replaces the stale one at their position.
    const later = new ArrayCells(sketchSize(WINDOWED));
    sketchObserve(later, 0, WINDOWED, 50, start + 61_000);
    sketchMergeInto(archive, later.slots, 0, WINDOWED, start + 61_000);
    sketchMergeInto(archive, dead.slots, 0, WINDOWED, start + 61_000); // stale: ignored
    assert.deepEqual(
      sketchQuantiles([archive], 0, WINDOWED, start + 61_000).map(Math.round),
      [50, 50, 50],
    );
  });

  it('processes merge window by window with live processes', () => {
    const a = new ArrayCells(sketchSize(WINDOWED));
    const b = new ArrayCells(sketchSize(WINDOWED));
    sketchObserve(a, 0, WINDOWED, 10, start);
    sketchObserve(b, 0, WINDOWED, 20, start + 5_000);
    sketchObserve(b, 0, WINDOWED, 30, start + 25_000);
    const now = start + 30_000;
    assert.deepEqual(
      sketchQuantiles([a.slots, b.slots], 0, WINDOWED, now).map(Math.round),
      [10, 20, 30],
    );
    const merged = new Float64Array(sketchSize(WINDOWED));
    sketchMergeInto(merged, a.slots, 0, WINDOWED, now);
    sketchMergeInto(merged, b.slots, 0, WINDOWED, now);
    assert.deepEqual(sketchQuantiles([merged], 0, WINDOWED, now).map(Math.round), [10, 20, 30]);
  });
});

describe('sketch torn and damaged reads', () => {
  it('a window read half-updated yields numbers, never NaN or an exception', () => {
    const random = prng(99);
    const cells = sketchOf(
      Array.from({ length: 2000 }, () => Math.exp(normal(random))),
      ALL_TIME,
    );
    const before = Float64Array.from(cells.slots);
    // A turn that moves and collapses the range (15 decades up), then a normal batch.
    sketchObserve(cells, 0, ALL_TIME, 1e15, T0);
    for (let i = 0; i < 50; i++) sketchObserve(cells, 0, ALL_TIME, Math.exp(normal(random)), T0);
    const after = cells.slots;
    for (let trial = 0; trial < 200; trial++) {
      // Any mix of old and new slots, as a read overlapping the write could see.
      const torn = Float64Array.from(before, (v, i) => (random() < 0.5 ? v : after[i]!));
      const got = sketchQuantiles([torn], 0, ALL_TIME, T0);
      for (const q of got) assert.ok(Number.isFinite(q), `torn read gave ${q}`);
    }
  });

  it('garbage in any slot never throws and never yields NaN beside real data', () => {
    const random = prng(5);
    const settings: SummarySettings = { percentiles: [0.5, 0.99], maxAgeSeconds: 0, ageBuckets: 1 };
    for (let trial = 0; trial < 300; trial++) {
      const good = sketchOf([1, 2, 3], settings);
      const damaged = sketchOf([1, 2, 3], settings);
      for (let j = 0; j < 5; j++) {
        const slot = Math.floor(random() * 12) + (random() < 0.5 ? 0 : SKETCH_WINDOW_SLOTS - 1010);
        const garbage = [Number.NaN, -1, 1e300, -1e300, Number.POSITIVE_INFINITY, 0.5, 131072];
        damaged.slots[slot] = garbage[Math.floor(random() * garbage.length)]!;
      }
      const got = sketchQuantiles([good.slots, damaged.slots], 0, settings, T0);
      // (±Infinity is a legitimate answer: garbage may land in the infinity counts.)
      for (const q of got) assert.ok(!Number.isNaN(q), `damaged read gave ${q}`);
      // Writers recover too: observing into a damaged window neither throws nor loses new data.
      sketchObserve(damaged, 0, settings, 5, T0);
      const [, p99] = sketchQuantiles([damaged.slots], 0, settings, T0);
      assert.ok(!Number.isNaN(p99));
    }
  });
});
