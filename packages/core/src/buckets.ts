/**
 * Histogram bucket helpers: prom-client's generators (validated) and the bucket check every
 * histogram runs on its `buckets` option.
 */
import { describeValue, InvalidOptionError } from './errors.js';

/** Prometheus' default histogram buckets (the same as prom-client's and client_golang's). */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/**
 * Most upper bounds a histogram may have (`+Inf` not counted). Each bound is a line of every
 * series at every scrape; FORMAT.md's "Limits" table lists it with the other bounds.
 */
export const MAX_BUCKETS = 1000;

function bucketError(message: string): InvalidOptionError {
  return new InvalidOptionError('PROMFORK_INVALID_BUCKETS', message);
}

function assertCount(count: unknown, where: string): asserts count is number {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
    throw bucketError(`${where}: invalid count ${describeValue(count)}: expected an integer >= 1`);
  }
}

/**
 * `count` buckets starting at `start`, each `width` above the previous one.
 * Throws PROMFORK_INVALID_BUCKETS for a non-finite start, a width <= 0 or a count < 1.
 */
export function linearBuckets(start: number, width: number, count: number): number[] {
  if (typeof start !== 'number' || !Number.isFinite(start)) {
    throw bucketError(
      `linearBuckets: invalid start ${describeValue(start)}: expected a finite number`,
    );
  }
  if (typeof width !== 'number' || !Number.isFinite(width) || width <= 0) {
    throw bucketError(
      `linearBuckets: invalid width ${describeValue(width)}: expected a finite number > 0`,
    );
  }
  assertCount(count, 'linearBuckets');
  const buckets: number[] = [];
  for (let i = 0; i < count; i++) buckets.push(start + i * width);
  return assertBuckets(buckets, 'linearBuckets') as number[];
}

/**
 * `count` buckets starting at `start`, each `factor` times the previous one.
 * Throws PROMFORK_INVALID_BUCKETS for a start <= 0, a factor <= 1 or a count < 1.
 */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  if (typeof start !== 'number' || !Number.isFinite(start) || start <= 0) {
    throw bucketError(
      `exponentialBuckets: invalid start ${describeValue(start)}: expected a finite number > 0`,
    );
  }
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor <= 1) {
    throw bucketError(
      `exponentialBuckets: invalid factor ${describeValue(factor)}: expected a finite number > 1`,
    );
  }
  assertCount(count, 'exponentialBuckets');
  const buckets: number[] = [];
  let bound = start;
  for (let i = 0; i < count; i++) {
    buckets.push(bound);
    bound *= factor;
  }
  return assertBuckets(buckets, 'exponentialBuckets') as number[];
}

/**
 * Checks histogram upper bounds: a non-empty array of finite numbers, strictly increasing
 * (so neither unsorted nor duplicated). `+Inf` is implicit and must not be listed. Returns a
 * frozen copy. Throws PROMFORK_INVALID_BUCKETS naming the first bad entry.
 */
export function assertBuckets(buckets: unknown, where: string): readonly number[] {
  if (!Array.isArray(buckets) || buckets.length === 0) {
    throw bucketError(
      `${where}: invalid buckets ${describeValue(buckets)}: expected a non-empty array of finite numbers in increasing order`,
    );
  }
  const list = buckets as unknown[];
  if (list.length > MAX_BUCKETS) {
    throw bucketError(
      `${where}: ${list.length} buckets: expected at most ${MAX_BUCKETS} (+Inf not counted)`,
    );
  }
  for (let i = 0; i < list.length; i++) {
    const bound = list[i];
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw bucketError(
        `${where}: invalid bucket ${describeValue(bound)} at index ${i}: expected a finite number (+Inf is added automatically)`,
      );
    }
    const previous = list[i - 1] as number;
    if (i > 0 && bound <= previous) {
      throw bucketError(
        `${where}: bucket ${describeValue(bound)} at index ${i} is not greater than the previous ` +
          `bucket ${describeValue(previous)}: expected strictly increasing, unique bounds`,
      );
    }
  }
  return Object.freeze([...(list as number[])]);
}
