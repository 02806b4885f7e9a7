/**
 * What merging keeps between the scrapes of one store: the merged series themselves.
 *
 * A scrape merges the same series as the one before it nearly always: files gain series
 * rarely and lose them more rarely still. Building the merged view afresh every time (a Map of
 * every merged series, a copy of its slots, a collected series object) was most of a warm
 * scrape's work and garbage: for one file of 1M counters, a million Map insertions and typed
 * arrays per scrape. So a {@link MergeState} keeps, per metric name, the map from merge key to
 * merged series, and each scrape (a *round*) refills the slots in place:
 *
 * - the first source of a round that holds a series COPIES its slots over the old ones (so
 *   nothing of an earlier round survives: `max` gauges, say, start again from this round's
 *   values), later sources merge into them as before;
 * - which merged series a round touched is tracked by its round number, so a series no source
 *   holds any more (removed, its file gone or skipped) is dropped at the end of the round and
 *   never shown;
 * - a metric whose newest definition changed (another descriptor object: a file was re-parsed,
 *   a deploy changed the definition) starts a new map;
 * - a *plan* remembers, per source file and metric, which merged series each of its series
 *   went to. A family that lists the very same series objects next round (a file's parsed
 *   entries are cached by the reader, a process's own series are kept) merges through the plan,
 *   without building or looking up a key per series; any change of the list (a series added,
 *   removed, torn and left out, the file re-parsed), another merged family, or a round that
 *   dropped merged series of that family voids it.
 *
 * The output keeps the order a fresh merge gives: families and series in the order this
 * round first met them. Collected series handed out are these merged series: their slots
 * change at the next round of the same state (a caller renders them before it collects again;
 * two scrapes interleaved by `await` render the newer values, never a mix within a series).
 * Native histogram series get a fresh collected series each round, since their decoded
 * snapshot is memoized on it. A round's list of series is never changed once handed out; a
 * round that met the very same series in the same order hands out the list of the round
 * before (no copy of a million references per scrape). `FileStore.collect()` hands out
 * copies ({@link snapshotOf}), which stay as they are; only scrapes take the series
 * themselves (`collectForScrape`).
 *
 * Compaction merges without a state (a fresh one per call): its output is written, not kept.
 */
import { type CollectedFamily, type CollectedSeries, collectedSeries } from '../store.js';
import type { Exemplar, MetricDescriptor } from '../types.js';
import { KeyText } from './key-texts.js';
import type { SourceFamily, SourceSeries } from './merge.js';

/**
 * One merged series: a CollectedSeries whose slots are refilled every round. A series first
 * met as a plain key text (a file's series entry; key-texts.ts) keeps that key text as its
 * `plainKey` and splits its label values from it only when asked: a text scrape writes the
 * labels from the key (series-prefixes.ts), so a cold one splits nothing (it used to split
 * every new merged series: 60,000 strings and 20,000 arrays for 20,000 series of 3 labels).
 * Either way `labelValues` is one array for the series' life.
 */
export class SeriesAcc implements CollectedSeries {
  /** This round's latest exemplar per slot among its sources (refilled like the cells). */
  exemplars: (Exemplar | undefined)[] | undefined = undefined;
  /** The round that last filled {@link cells}. */
  round = 0;
  renderCache: unknown = undefined;

  constructor(
    readonly plainKey: KeyText | undefined,
    /** Undefined until asked for when {@link plainKey} is set. */
    private values: readonly string[] | undefined,
    readonly extraLabels: Readonly<Record<string, string>> | undefined,
    readonly cells: Float64Array,
  ) {}

  /** The label values: split from {@link plainKey} on first use (KeyText keeps them). */
  get labelValues(): readonly string[] {
    this.values ??= (this.plainKey as KeyText).labelValues;
    return this.values;
  }
}

/** One merged metric under its newest definition. */
export interface FamilyAcc {
  readonly descriptor: MetricDescriptor;
  readonly bornMs: number;
  /** Slots per series. */
  readonly size: number;
  readonly series: Map<string, SeriesAcc>;
  /**
   * Series of this round, in the order the round met them: the first {@link count} entries.
   * Written by index and never shortened between rounds: emptying it and pushing a million
   * series again regrew it by copies, into fresh memory, at every scrape.
   */
  readonly order: SeriesAcc[];
  /** How many entries of {@link order} this round filled. */
  count: number;
  /**
   * The series list the last round handed out, never changed once handed out: a round that
   * met the very same series in the same order hands it out again ({@link outputSeries}).
   */
  output: CollectedSeries[] | undefined;
  /** The round that last touched this family. */
  round: number;
  /** How many rounds dropped series of this family (plans made before are void). */
  drops: number;
  /** The round that last merged an exemplar into this family. */
  exemplarRound: number;
}

/** How one family of one source merged last time (see {@link MergeState.plan}). */
interface Plan {
  /** The round that last made or used it (plans unused by a round that merged their name are dropped). */
  round: number;
  readonly acc: FamilyAcc;
  readonly drops: number;
  /** The source's series list of that round. */
  readonly series: readonly SourceSeries[];
  /** The merged series each of them went to. */
  readonly targets: readonly SeriesAcc[];
}

/** A merged family as handed out: the collected series of one round. */
export interface MergedFamilyOutput {
  readonly descriptor: MetricDescriptor;
  readonly bornMs: number;
  readonly series: CollectedSeries[];
  /** True when a series of this round carries exemplars. */
  readonly hasExemplars: boolean;
}

/** Slots per chunk of merged cells (1 MiB): one allocation for many small series. */
const CHUNK_SLOTS = 128 * 1024;

/** See the module comment. */
export class MergeState {
  private readonly families = new Map<string, FamilyAcc>();
  /** By source file, then metric name. */
  private readonly plans = new Map<string, Map<string, Plan>>();
  private round = 0;
  /** Families this round touched, in the order it met them. */
  private touched: FamilyAcc[] = [];
  private chunk = new Float64Array(0);
  private chunkUsed = 0;

  /** Starts a round (one merge). */
  begin(): void {
    this.round++;
    this.touched = [];
  }

  /**
   * The merged family `name` of this round under `descriptor` (born `bornMs`): the one kept
   * from earlier rounds when the definition is the same object, else a new one.
   */
  family(descriptor: MetricDescriptor, bornMs: number, size: number): FamilyAcc {
    let acc = this.families.get(descriptor.name);
    if (acc === undefined || acc.descriptor !== descriptor || acc.bornMs !== bornMs) {
      acc = {
        descriptor,
        bornMs,
        size,
        series: new Map(),
        order: [],
        count: 0,
        output: undefined,
        round: 0,
        drops: 0,
        exemplarRound: 0,
      };
      this.families.set(descriptor.name, acc);
    }
    if (acc.round !== this.round) {
      acc.round = this.round;
      acc.count = 0;
      this.touched.push(acc);
    }
    return acc;
  }

  /** Notes that a series of `acc` got exemplars this round (see `hasExemplars`). */
  markExemplars(acc: FamilyAcc): void {
    acc.exemplarRound = this.round;
  }

  /** The family `name` if this round has touched it (for budget look-ups). */
  touchedFamily(name: string): FamilyAcc | undefined {
    const acc = this.families.get(name);
    return acc !== undefined && acc.round === this.round ? acc : undefined;
  }

  /** The merged series `key` of `acc` if this round has already filled it. */
  current(acc: FamilyAcc, key: string): SeriesAcc | undefined {
    const series = acc.series.get(key);
    return series !== undefined && series.round === this.round ? series : undefined;
  }

  /**
   * The merged series `key` of `acc`, kept or new: a new one takes the plain key text or the
   * label values of `source` (read only then; see SeriesAcc) and the
   * store labels `extraLabels()` gives. It holds this round's values only once {@link fill}
   * has claimed it.
   */
  seriesOf(
    acc: FamilyAcc,
    key: string,
    source: SourceSeries,
    extraLabels: () => Readonly<Record<string, string>> | undefined,
  ): SeriesAcc {
    let series = acc.series.get(key);
    if (series === undefined) {
      const cells = this.cells(acc.size);
      const extra = extraLabels();
      // One class for all (renderCache included): the render loops stay monomorphic.
      series =
        source instanceof KeyText && source.plain
          ? new SeriesAcc(source, undefined, extra, cells)
          : new SeriesAcc(undefined, source.labelValues, extra, cells);
      acc.series.set(key, series);
    }
    return series;
  }

  /**
   * Marks `series` of `acc` as merged this round. True when this is its first source this
   * round: the caller then overwrites all its cells; false: the caller merges into them.
   */
  fill(acc: FamilyAcc, series: SeriesAcc): boolean {
    if (series.round === this.round) return false;
    series.round = this.round;
    acc.order[acc.count++] = series;
    return true;
  }

  /**
   * The targets `family` of source `file` merged into last time, one per series, if they
   * still hold: the family lists the same series objects (a file's parsed entries are cached,
   * a process's own series are kept) and `acc` dropped none of its series since.
   */
  plan(file: string, family: SourceFamily, acc: FamilyAcc): readonly SeriesAcc[] | undefined {
    const plan = this.plans.get(file)?.get(family.descriptor.name);
    if (plan === undefined || plan.acc !== acc || plan.drops !== acc.drops) return undefined;
    const list = family.series;
    const known = plan.series;
    if (list.length !== known.length) return undefined;
    for (let i = 0; i < list.length; i++) if (list[i] !== known[i]) return undefined;
    plan.round = this.round;
    return plan.targets;
  }

  /** Records the targets of `family` of source `file` for the next round ({@link plan}). */
  remember(file: string, family: SourceFamily, acc: FamilyAcc, targets: SeriesAcc[]): void {
    let plans = this.plans.get(file);
    if (plans === undefined) {
      plans = new Map();
      this.plans.set(file, plans);
    }
    plans.set(family.descriptor.name, {
      round: this.round,
      acc,
      drops: acc.drops,
      series: family.series,
      targets,
    });
  }

  /**
   * Ends the round: the families it touched, each with its series of this round. Merged
   * series no source held this round are dropped, and so are families that `accept` takes but
   * no source held (a filtered round leaves the others alone).
   */
  finish(accept: (name: string) => boolean): MergedFamilyOutput[] {
    for (const [name, acc] of this.families) {
      if (acc.round !== this.round) {
        if (accept(name)) this.families.delete(name);
        continue;
      }
      // Entries past this round's count would keep series of earlier rounds alive.
      if (acc.order.length > acc.count) acc.order.length = acc.count;
      if (acc.series.size === acc.count) continue;
      acc.drops++;
      for (const [key, series] of acc.series) {
        if (series.round !== this.round) acc.series.delete(key);
      }
    }
    for (const [file, plans] of this.plans) {
      for (const [name, plan] of plans) {
        if (plan.round !== this.round && accept(name)) plans.delete(name);
      }
      if (plans.size === 0) this.plans.delete(file);
    }
    return this.touched.map((acc) => ({
      descriptor: acc.descriptor,
      bornMs: acc.bornMs,
      series: outputSeries(acc),
      hasExemplars: acc.exemplarRound === this.round,
    }));
  }

  /** Zeroed cells for one series, cut from a shared chunk when small. */
  private cells(size: number): Float64Array {
    if (size * 8 > CHUNK_SLOTS) return new Float64Array(size);
    if (this.chunkUsed + size > this.chunk.length) {
      this.chunk = new Float64Array(CHUNK_SLOTS);
      this.chunkUsed = 0;
    }
    const cells = this.chunk.subarray(this.chunkUsed, this.chunkUsed + size);
    this.chunkUsed += size;
    return cells;
  }
}

/**
 * The collected series of a family's round (fresh objects where a snapshot is memoized): the
 * list handed out last round when this round met the same series in the same order (no copy
 * of a million references per scrape, and renderers can tell the list is unchanged by its
 * identity; render.ts), else a copy of {@link FamilyAcc.order}, which the next round rewrites.
 */
function outputSeries(acc: FamilyAcc): CollectedSeries[] {
  const d = acc.descriptor;
  const order = acc.order;
  if (d.type === 'histogram' && d.native !== undefined) {
    return order.map((s) => collectedSeries(d, s.labelValues, s.cells, s.extraLabels, s.exemplars));
  }
  const last = acc.output;
  if (last !== undefined && sameList(last, order)) return last;
  acc.output = order.slice();
  return acc.output;
}

/** True when `a` and `b` hold the same objects in the same order. */
function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Copies of `families` whose cells no later merge changes (what `collect()` returns). */
export function snapshotOf(families: readonly CollectedFamily[]): CollectedFamily[] {
  return families.map((family) => {
    const d = family.descriptor;
    return {
      ...family,
      series: family.series.map((s) =>
        collectedSeries(
          d,
          s.labelValues,
          Float64Array.from(s.cells),
          s.extraLabels,
          s.exemplars?.slice(),
        ),
      ),
    };
  });
}
