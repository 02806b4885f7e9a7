/**
 * What the protobuf exposition needs of one native histogram series: the shape the native
 * histogram store code hands over next to a series' classic cells. Kept here so the encoder
 * builds on its own; the native histogram module provides the same interface.
 */

export interface NativeHistogramSnapshot {
  readonly schema: number;
  readonly zeroThreshold: number;
  readonly zeroCount: number;
  readonly count: number;
  readonly sum: number;
  /** Populated buckets, ascending index: bucket i covers (base^(i-1), base^i]. */
  readonly positive: ReadonlyArray<readonly [index: number, count: number]>;
  readonly negative: ReadonlyArray<readonly [index: number, count: number]>;
}
