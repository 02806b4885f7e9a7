/**
 * Timing helpers. The machine is shared and noisy, so every figure is a median over several
 * rounds taken after a warm-up, and ours and the peer's rounds alternate so that a burst of
 * load from elsewhere hits both alike.
 */

/** Nanoseconds per call of `body(i)` over `ops` calls. */
export function timeLoop(ops: number, body: (i: number) => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) body(i);
  return Number(process.hrtime.bigint() - start) / ops;
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Options of {@link compareLoops}. */
export interface LoopPlan {
  /** Calls per round. */
  readonly ops: number;
  /** Measured rounds per contender. */
  readonly rounds: number;
  /** Calls before measuring (JIT warm-up), per contender. */
  readonly warmup: number;
}

/** Loop plan for micro benchmarks. */
export function microPlan(quick: boolean): LoopPlan {
  return quick
    ? { ops: 200_000, rounds: 7, warmup: 300_000 }
    : { ops: 1_000_000, rounds: 15, warmup: 2_000_000 };
}

/**
 * Runs each contender's loop `warmup` times, then `rounds` measured rounds in alternation, and
 * returns each contender's median ns/op, in the order given.
 */
export function compareLoops(
  plan: LoopPlan,
  contenders: readonly ((i: number) => void)[],
): number[] {
  for (const body of contenders) timeLoop(plan.warmup, body);
  const samples = contenders.map((): number[] => []);
  for (let round = 0; round < plan.rounds; round++) {
    contenders.forEach((body, k) => {
      samples[k]?.push(timeLoop(plan.ops, body));
    });
  }
  return samples.map(median);
}

/** Median wall time in milliseconds of `rounds` awaited calls of `body`. */
export async function timeAsync(rounds: number, body: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    await body();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(times);
}

/**
 * A distribution-free 95% confidence interval of the median of `values`: the order statistics
 * `[x(l), x(n+1-l)]` with `l` the largest rank such that a Binomial(n, 1/2) falls below `l`
 * with probability at most 2.5%. Needs at least 6 values (fewer give no such rank: the whole
 * range is returned).
 */
export function medianInterval(values: readonly number[]): readonly [number, number] {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  // P(X <= k) for X ~ Binomial(n, 1/2), accumulated term by term.
  let term = 0.5 ** n;
  let below = 0; // P(X < rank)
  let rank = 0; // 0-based index of the lower bound
  for (let k = 0; k < n; k++) {
    if (below + term > 0.025) break;
    below += term;
    rank = k + 1;
    term = (term * (n - k)) / (k + 1);
  }
  if (rank === 0) return [sorted[0] as number, sorted[n - 1] as number];
  return [sorted[rank - 1] as number, sorted[n - rank] as number];
}
