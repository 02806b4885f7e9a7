/**
 * The data every "worker" holds in the scrape scenarios, identical for promfork and
 * prom-client: a counter and a histogram (default buckets), each with `sets` label sets.
 * Values depend on the worker index so that merging is visible, and are small integers and
 * dyadic fractions so that sums are exact in any order (the merged outputs can be compared
 * as text).
 */
import { type Labels3, manyLabelSets, OBSERVATIONS } from './labels.js';

/** Name of the counter every worker updates. */
export const SCRAPE_COUNTER = 'bench_scrape_requests_total';
/** Name of the histogram every worker updates. */
export const SCRAPE_HISTOGRAM = 'bench_scrape_duration_seconds';

/** The slice of a counter API both libraries share. */
export interface CounterLike {
  inc(labels: Labels3, value: number): void;
}
/** The slice of a histogram API both libraries share. */
export interface HistogramLike {
  observe(labels: Labels3, value: number): void;
}

/** Applies worker `index`'s updates for `sets` label sets. */
export function applyWorkerData(
  index: number,
  sets: number,
  counter: CounterLike,
  histogram: HistogramLike,
): void {
  const labelSets = manyLabelSets(sets);
  labelSets.forEach((labels, k) => {
    counter.inc(labels, 1 + ((index + k) % 7));
    histogram.observe(labels, OBSERVATIONS[(index + k) % OBSERVATIONS.length] as number);
  });
}
