/**
 * The exposition budget of a scrape: how much text the series merged from the directory may
 * make, so that files within every per-file limit (FORMAT.md, "Limits") still cannot make a
 * scrape unbounded together.
 *
 * Why it is needed: text is not proportional to file bytes. A histogram series with 1000
 * buckets and a 64 KiB label value takes 72 KiB in its file and renders 1003 lines that each
 * repeat the label value: 64 MiB. Eight such series (half a megabyte on disk) passed V8's
 * string limit (512 Mi characters) and every scrape threw. So merging counts the estimated text
 * of every NEW merged series (series that merge into an existing one add no lines), and a
 * file whose new series would take the total past {@link MAX_EXPOSITION_BYTES} is skipped
 * whole (reported and counted like an unreadable file), never half merged. Files are admitted
 * in merge order: the scraping process first (always admitted: its values are its own), then
 * live processes' files, then dead ones and the archive.
 *
 * Exemplars count too (at most one per line, but a planted file's can be several times longer
 * than the line): each source's exemplars are charged with their label text, as if none merged
 * into another, an over-estimate that a healthy deployment never comes near.
 *
 * The check is cheap when the budget is far away, as it always is in a healthy deployment: a
 * source whose series would fit even if all of them were new is admitted without looking them
 * up; only near the limit are its series looked up among those already merged.
 */
import type { Exemplar, MetricDescriptor } from '../types.js';
import type { Source, SourceFamily, SourceSeries } from './merge.js';

/**
 * Most exposition text, in characters (estimated), that one scrape renders for the series of
 * every process: half of V8's longest string, so that the text, its buffer and the caller's
 * own additions (default labels, other stores) stay clear of it.
 */
export const MAX_EXPOSITION_BYTES = 256 * 1024 * 1024;

/** Characters of a line besides the metric name, label names and values (`_bucket`, `le`, value). */
const LINE_OVERHEAD = 64;
/** Characters per label besides its name and value (`="",`). */
const LABEL_OVERHEAD = 4;

/**
 * Characters of an exemplar besides its label text as JSON (which is never shorter than the
 * exposition's): ` # {`, `}`, its value and timestamp.
 */
const EXEMPLAR_OVERHEAD = 64;

const exemplarTexts = new WeakMap<readonly (Exemplar | undefined)[], number>();

/**
 * Estimated characters the exemplars of one series render (cached per list: a reader hands out
 * the same list while an entry is unchanged; a list changed in place must be forgotten with
 * {@link forgetExemplarsEstimate}).
 */
export function exemplarsTextEstimate(latest: readonly (Exemplar | undefined)[]): number {
  let text = exemplarTexts.get(latest);
  if (text === undefined) {
    text = 0;
    for (const exemplar of latest) {
      if (exemplar !== undefined)
        text += JSON.stringify(exemplar.labels).length + EXEMPLAR_OVERHEAD;
    }
    exemplarTexts.set(latest, text);
  }
  return text;
}

/**
 * Drops the cached estimate of `latest`, a list its owner changed in place (this process's own
 * exemplars: the FileStore keeps one list per series and replaces its slots).
 */
export function forgetExemplarsEstimate(latest: readonly (Exemplar | undefined)[]): void {
  exemplarTexts.delete(latest);
}

/** Lines a series of a descriptor renders, and the characters of each besides its key. */
interface LineShape {
  readonly lines: number;
  readonly base: number;
}

const shapes = new WeakMap<MetricDescriptor, LineShape>();

/** The line shape of `d` (cached per descriptor object: parsed descriptors are cached too). */
function shapeOf(d: MetricDescriptor): LineShape {
  let shape = shapes.get(d);
  if (shape === undefined) {
    let lines = 1;
    if (d.type === 'histogram') lines = d.buckets.length + 3;
    else if (d.type === 'summary') lines = (d.summary?.percentiles.length ?? 0) + 2;
    let base = d.name.length + LINE_OVERHEAD;
    for (const name of d.labelNames) base += name.length + LABEL_OVERHEAD;
    shape = { lines, base };
    shapes.set(d, shape);
  }
  return shape;
}

/**
 * Estimated characters one merged series of `d` renders: its lines times the line length. The
 * key (the label values as a JSON array) stands for the values: escaping for the exposition
 * never makes a value longer than JSON does.
 */
export function seriesTextEstimate(d: MetricDescriptor, key: string): number {
  return textOf(shapeOf(d), key);
}

function textOf(shape: LineShape, key: string): number {
  return shape.lines * (shape.base + key.length);
}

/** A source skipped because its series would have exceeded the budget. */
export interface OverBudget {
  readonly file: string;
  /** Estimated characters its new series would have added. */
  readonly estimate: number;
  /** Estimated characters already merged when it was refused. */
  readonly spent: number;
}

/** One scrape's budget; see the module comment. */
export class ExpositionBudget {
  private spent = 0;
  /** Sources refused, in merge order. */
  readonly skipped: OverBudget[] = [];

  /**
   * @param exempt the scraping process's own source: always admitted (its new series still
   *   count against the budget).
   * @param limit estimated characters allowed.
   */
  constructor(
    private readonly exempt: Source | undefined,
    private readonly limit: number = MAX_EXPOSITION_BYTES,
  ) {}

  /** Counts one new merged series. */
  spend(d: MetricDescriptor, key: string): void {
    this.spent += seriesTextEstimate(d, key);
  }

  /** Counts the exemplars one source gave a merged series (whether or not they are the latest). */
  spendExemplars(latest: readonly (Exemplar | undefined)[]): void {
    this.spent += exemplarsTextEstimate(latest);
  }

  /**
   * Whether `source` may be merged: true when its series fit in what is left, counting only
   * those `isMerged` does not already know. Records a refused source in {@link skipped}.
   */
  admits(
    source: Source,
    accept: (name: string) => boolean,
    isMerged: (family: SourceFamily, series: SourceSeries) => boolean,
  ): boolean {
    if (source === this.exempt) return true;
    if (this.spent + this.estimate(source, accept, undefined) <= this.limit) return true;
    const estimate = this.estimate(source, accept, isMerged);
    if (this.spent + estimate <= this.limit) return true;
    this.skipped.push({ file: source.file, estimate, spent: this.spent });
    return false;
  }

  /** Estimated characters of `source`'s series, leaving out those `isMerged` knows. */
  private estimate(
    source: Source,
    accept: (name: string) => boolean,
    isMerged: ((family: SourceFamily, series: SourceSeries) => boolean) | undefined,
  ): number {
    return textEstimate(source.families, accept, isMerged);
  }
}

/**
 * Estimated characters the series of `families` render (those `accept`s, and not known to
 * `isMerged`). Compaction uses it too: a dead file whose text alone exceeds the budget is not
 * folded into the archive, where it would make every scrape skip the archive instead.
 */
export function textEstimate(
  families: readonly SourceFamily[],
  accept: (name: string) => boolean = () => true,
  isMerged?: (family: SourceFamily, series: SourceSeries) => boolean,
): number {
  let total = 0;
  for (const family of families) {
    if (!accept(family.descriptor.name)) continue;
    const shape = shapeOf(family.descriptor);
    const exemplars = family.exemplars;
    const list = family.series;
    // Indexed: an iterator allocates a result per series until the loop is optimised.
    for (let i = 0; i < list.length; i++) {
      const series = list[i] as SourceSeries;
      const latest = exemplars?.get(i);
      if (latest !== undefined) total += exemplarsTextEstimate(latest);
      if (isMerged?.(family, series) === true) continue;
      total += textOf(shape, series.key);
    }
  }
  return total;
}
