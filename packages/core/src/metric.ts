/**
 * What every metric type shares: option checking, the immutable descriptor, the child cache
 * (label values -> bound child holding its series' Cells), remove/reset/zero, registration and
 * `get()`.
 *
 * Hot-path contract: a child returned by `labels(...)` holds its Cells directly, so its
 * `inc`/`observe`/`set` do no label work at all. A labelled call on the metric itself
 * (`counter.inc({ method: 'GET' }, 1)`) walks the label trie in declared order (one Map lookup
 * per label, no key string built) and only on a miss takes the validating slow path.
 *
 * Held children: a child kept across `remove`, `reset` or the metric's removal from its
 * registries writes into the metric's current series of its label values, created again from
 * zero when missing (as prom-client's children do, which look the series up on every call).
 * The metric gives each child of a dropped series cells that re-attach it on first access
 * (reattaching-cells.ts), so that costs nothing on the update path.
 */
import {
  joinSharers,
  leaveSharers,
  noteDeclared,
  noteForgotten,
  peersOf,
  type SeriesSharer,
} from './declarations.js';
import { getDefaultStore, isStore } from './default-store.js';
import {
  AlreadyRegisteredError,
  describeValue,
  InvalidOptionError,
  LabelSetError,
} from './errors.js';
import { makeExemplar } from './exemplar.js';
import { sameDefinition } from './file-store/format.js';
import { type LabelsInput, LabelTrie, valuesFromArgs, valuesFromObject } from './labels.js';
import { detachedCells } from './memory-store.js';
import type { NativeHistogramSettings } from './native-histogram.js';
import { type CellsReattacher, ReattachingCells } from './reattaching-cells.js';
import type { Registry } from './registry.js';
import { register as defaultRegistry } from './registry.js';
import { familyToMetricObject, latestExemplarOf, pickFamily } from './snapshot.js';
import { type Cells, type Store, seriesSize } from './store.js';
import type {
  Exemplar,
  GaugeMode,
  LabelValue,
  LabelValues,
  MetricDescriptor,
  MetricObject,
  MetricType,
  SummarySettings,
} from './types.js';
import {
  assertLabelNames,
  assertMetricName,
  assertOptionKeys,
  assertSeriesKeySize,
  assertUnicodeLabelValues,
  invalidOption,
  isUnicodeText,
} from './validation.js';

/** prom-client's cluster aggregation names, accepted for compatibility (see `multiprocessMode`). */
export type Aggregator = 'omit' | 'sum' | 'first' | 'min' | 'max' | 'average';

/** Every accepted {@link Aggregator}. */
export const AGGREGATORS: readonly Aggregator[] = ['omit', 'sum', 'first', 'min', 'max', 'average'];

/** Options every metric type accepts. */
export interface MetricOptions<T extends string, M> {
  /** Metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`. Required. */
  name: string;
  /** Help text (any string, may be empty). Required. */
  help: string;
  /**
   * Label names in the order label values are given by position. Every update must then pass
   * exactly these labels. At most 64 (`MAX_LABEL_NAMES`).
   * @default []
   */
  labelNames?: readonly T[];
  /**
   * Registries to register the metric in.
   * @default [register] (the default registry); `[]` registers nowhere
   */
  registers?: readonly Registry[] | null;
  /**
   * prom-client's cluster aggregator. Kept in `get()` output; on gauges it chooses the
   * `multiprocessMode` when that is not given (see Gauge). Counters, histograms and summaries
   * always add across processes.
   * @default 'sum'
   */
  aggregator?: Aggregator;
  /** Called (and awaited) before the metric is read by `get()` or a scrape. `this` is the metric. */
  collect?: (this: M) => void | Promise<void>;
  /**
   * Keep exemplars (counters and histograms) for OpenMetrics output; enables the
   * `{ labels, value, exemplarLabels }` call form.
   * @default false
   */
  enableExemplars?: boolean;
  /**
   * Where values live.
   * @default getDefaultStore() (a FileStore when PROMETHEUS_MULTIPROC_DIR is set, else a MemoryStore)
   */
  store?: Store;
  /**
   * Label sets to create at zero up front (and again after `reset()`), so their series are
   * exported before their first event.
   * @default []
   */
  initLabelSets?: readonly LabelValues<T>[];
  /**
   * Most label sets this metric keeps in this process. Beyond it, an update of a new label set
   * is dropped: it goes nowhere and never throws, is counted in
   * `promfork_series_dropped_total{metric="<name>"}`, and the first drop is reported through
   * `onError`. Label sets seen before keep working. Guards memory and store files against
   * label values a client controls. No cost on updates of existing label sets. A child
   * `labels(...)` returned for a dropped label set tries again at its first update after a
   * `remove`, `reset` (or the like) that may have made room.
   * @default unlimited
   */
  maxSeries?: number;
  /**
   * Receives problems the metric handles without throwing: the first label set dropped by
   * `maxSeries`, and a failure to create again the series of a child held across `reset` or
   * `remove`.
   * @default writes one line to stderr
   */
  onError?: (error: Error) => void;
}

/** Option keys every metric accepts. */
export const COMMON_OPTION_KEYS: readonly string[] = [
  'name',
  'help',
  'labelNames',
  'registers',
  'aggregator',
  'collect',
  'enableExemplars',
  'store',
  'initLabelSets',
  'maxSeries',
  'onError',
];

/** Name of the counter of label sets dropped by `maxSeries`, labelled `metric`. */
export const SERIES_DROPPED_TOTAL = 'promfork_series_dropped_total';

/** Cells of a dropped label set: writes go nowhere, reads give 0. */
const DROPPED_CELLS: Cells = Object.freeze({
  add(): void {},
  set(): void {},
  get(): number {
    return 0;
  },
});

/**
 * Cells of the probe child an update is tried on before a new series is created for it (see
 * `Metric.applyTo`): writes go nowhere, reads give 0. Distinct from DROPPED_CELLS so a probe is
 * never mistaken for a dropped label set.
 */
const PROBE_CELLS: Cells = Object.freeze({
  add(): void {},
  set(): void {},
  get(): number {
    return 0;
  },
});

/**
 * True for a child handed out for a label set dropped by `maxSeries` (its updates go nowhere)
 * while the metric dropped no series since, which could have made room for it.
 */
export function isDroppedChild(child: ChildBase): boolean {
  const cells = child.cells;
  return cells === DROPPED_CELLS || (cells instanceof ReattachingCells && cells.dropped);
}

/**
 * Adds `hook` to `hooks` as an entry of its own (a function added twice runs twice, and each
 * remover removes its own); returns the remover.
 */
function addHook(hooks: Set<() => void>, hook: () => void): () => void {
  const entry = () => hook();
  hooks.add(entry);
  return () => {
    hooks.delete(entry);
  };
}

function defaultOnError(error: Error): void {
  process.stderr.write(`promfork: ${error.message}\n`);
}

/** The type-specific part of a descriptor, computed by a subclass from its own options. */
export interface DescriptorSpec {
  readonly type: MetricType;
  readonly buckets?: readonly number[];
  readonly mode?: GaugeMode;
  readonly summary?: SummarySettings;
  readonly native?: NativeHistogramSettings;
}

/** What every child holds: its series' cells and label values, plus any exemplars. */
export interface ChildBase {
  /**
   * The series' slots (see store.ts for the layout). Replaced by the metric, never by callers:
   * when the series is dropped (reattaching-cells.ts) and when the child re-attaches.
   */
  cells: Cells;
  /** Label values in declared order. */
  readonly labelValues: readonly string[];
  /** Latest exemplar per slot index (counter: 0; histogram: bucket index); absent without exemplars. */
  exemplars?: (Exemplar | undefined)[];
}

/** The `{ labels, value, exemplarLabels }` call form of prom-client 15 (`inc` and `observe`). */
export interface ValueData<T extends string> {
  labels?: LabelValues<T>;
  value?: number;
  exemplarLabels?: Readonly<Record<string, LabelValue>>;
}

const VALUE_DATA_KEYS = new Set(['labels', 'value', 'exemplarLabels']);

/** Seconds since `start` (a performance.now() reading). */
function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}

/**
 * Base class of Counter, Gauge, Histogram and Summary. `T` is the union of label names;
 * `C` the child type returned by `labels(...)`.
 */
export abstract class Metric<T extends string, C extends ChildBase> {
  /** Metric name. */
  readonly name: string;
  /** Help text. */
  readonly help: string;
  /** Metric type. */
  readonly type: MetricType;
  /** Declared label names, in order. */
  readonly labelNames: readonly T[];
  /** prom-client aggregator name reported by `get()`. */
  readonly aggregator: Aggregator;
  /** Whether exemplars are kept. */
  readonly enableExemplars: boolean;
  /** The store holding this metric's values. */
  readonly store: Store;
  /** Immutable description of the metric, as handed to the store. */
  readonly descriptor: MetricDescriptor;
  /** The user's collect callback, if any. */
  protected readonly collectCallback: (() => void | Promise<void>) | undefined;
  /** Registries this metric is registered in (maintained by Registry). */
  readonly registries = new Set<Registry>();

  private readonly collectHooks = new Set<() => void>();
  /** See {@link addStaleChildrenHook}. */
  private readonly staleChildrenHooks = new Set<() => void>();
  private readonly trie: LabelTrie<C> | undefined;
  private unlabelled: C | undefined;
  private declared = true;
  private readonly initSets: readonly (readonly string[])[];
  /** Label sets beyond which new ones are dropped (Infinity: no limit). */
  readonly maxSeries: number;
  private readonly onError: (error: Error) => void;
  /** Label sets in the child cache (labelled metrics only). */
  private seriesCount = 0;
  /** The child of `promfork_series_dropped_total{metric=<name>}`, made at the first drop. */
  private dropChild: ChildBase | undefined;
  /** A child over PROBE_CELLS that updates are tried on before their series exists. */
  private probe: C | undefined;
  /**
   * Children re-attached to the series of a cached child (a child held across a drop whose
   * series a newer child holds by then), by that child: dropped together with it.
   */
  private readonly sharers = new Map<C, C[]>();
  /** Series dropped so far (`remove`, `reset`, ...): each may have made room under `maxSeries`. */
  private seriesDrops = 0;
  /**
   * This metric as the other objects of its name on a store that shares series by name see it
   * (declarations.ts): held here, since they hold it only weakly.
   */
  private readonly sharer: SeriesSharer;
  /** Re-attaches children whose series was dropped (see reattaching-cells.ts). */
  private readonly reattacher: CellsReattacher<C> = {
    reattach: (child) => this.reattach(child),
    seriesDrops: () => this.seriesDrops,
    nowhere: DROPPED_CELLS,
  };

  /**
   * @param options the user's options, checked against `allowedKeys`
   * @param allowedKeys every option key this metric type accepts
   * @param spec computes the type-specific descriptor fields from the options (after the common
   *   ones are valid); it runs before any child exists
   */
  protected constructor(
    options: MetricOptions<T, unknown>,
    allowedKeys: readonly string[],
    spec: (options: Record<string, unknown>, name: string) => DescriptorSpec,
  ) {
    const where = `new ${new.target.name}()`;
    assertOptionKeys(options, allowedKeys, where);
    const opts = options as unknown as Record<string, unknown>;
    if (opts.name === undefined) missing(where, 'name');
    assertMetricName(opts.name);
    const name = opts.name;
    if (opts.help === undefined) missing(where, 'help');
    if (typeof opts.help !== 'string') invalidOption(where, 'help', opts.help, 'a string');
    if (!isUnicodeText(opts.help)) {
      invalidOption(where, 'help', opts.help, 'Unicode text (no lone UTF-16 surrogate)');
    }
    const typeSpec = spec(opts, name);
    const labelNames = assertLabelNames(
      opts.labelNames ?? [],
      name,
      typeSpec.type,
      typeSpec.mode,
    ) as readonly T[];

    const aggregator = opts.aggregator ?? 'sum';
    if (!AGGREGATORS.includes(aggregator as Aggregator)) {
      invalidOption(where, 'aggregator', aggregator, `one of ${AGGREGATORS.join(', ')}`);
    }
    if (opts.collect !== undefined && typeof opts.collect !== 'function') {
      invalidOption(where, 'collect', opts.collect, 'a function');
    }
    const enableExemplars = opts.enableExemplars ?? false;
    if (typeof enableExemplars !== 'boolean') {
      invalidOption(where, 'enableExemplars', enableExemplars, 'a boolean');
    }
    const store = opts.store ?? getDefaultStore();
    if (!isStore(store)) invalidOption(where, 'store', store, 'an object implementing Store');
    const registers = opts.registers ?? [defaultRegistry];
    if (
      !Array.isArray(registers) ||
      !registers.every((r) => typeof r === 'object' && r !== null && 'registerMetric' in r)
    ) {
      invalidOption(where, 'registers', registers, 'an array of Registry objects');
    }
    const maxSeries = opts.maxSeries === undefined ? Number.POSITIVE_INFINITY : opts.maxSeries;
    if (
      typeof maxSeries !== 'number' ||
      !(Number.isSafeInteger(maxSeries) || maxSeries === Number.POSITIVE_INFINITY) ||
      maxSeries < 0
    ) {
      invalidOption(where, 'maxSeries', opts.maxSeries, 'a non-negative integer');
    }
    if (opts.onError !== undefined && typeof opts.onError !== 'function') {
      invalidOption(where, 'onError', opts.onError, 'a function');
    }
    const initLabelSets = opts.initLabelSets ?? [];
    if (!Array.isArray(initLabelSets)) {
      invalidOption(where, 'initLabelSets', initLabelSets, 'an array of label objects');
    }

    this.name = name;
    this.help = opts.help;
    this.type = typeSpec.type;
    this.labelNames = labelNames;
    this.aggregator = aggregator as Aggregator;
    this.enableExemplars = enableExemplars;
    this.store = store;
    this.collectCallback = opts.collect as (() => void | Promise<void>) | undefined;
    this.maxSeries = maxSeries;
    this.onError = (opts.onError as ((error: Error) => void) | undefined) ?? defaultOnError;
    this.descriptor = Object.freeze({
      name,
      help: opts.help,
      type: typeSpec.type,
      labelNames,
      buckets: typeSpec.buckets ?? [],
      mode: typeSpec.mode ?? 'sum',
      ...(typeSpec.summary === undefined ? {} : { summary: typeSpec.summary }),
      ...(typeSpec.native === undefined ? {} : { native: Object.freeze(typeSpec.native) }),
    });
    this.trie = labelNames.length > 0 ? new LabelTrie<C>(labelNames) : undefined;
    this.sharer = {
      descriptor: this.descriptor,
      droppedByPeer: (values) =>
        values === undefined ? this.resetChildren() : this.dropSeriesOf(values),
    };
    this.initSets = (initLabelSets as unknown[]).map((set) => {
      if (typeof set !== 'object' || set === null || Array.isArray(set)) {
        invalidOption(where, 'initLabelSets', set, 'label objects');
      }
      return Object.freeze(valuesFromObject(labelNames, set as LabelsInput, name));
    });

    // Fail before touching the store, so a rejected metric leaves nothing behind.
    for (const registry of registers as Registry[]) {
      const existing = registry.getSingleMetric(name);
      if (existing !== undefined) throw new AlreadyRegisteredError(name, existing);
    }
    store.declare(this.descriptor);
    noteDeclared(store, name);
    joinSharers(store, name, this.sharer);
    this.createUpFront();
    for (const registry of registers as Registry[]) registry.registerMetric(this);
  }

  /** Builds the child object of one series. Called from the base constructor too: use only base fields. */
  protected abstract createChild(cells: Cells, labelValues: readonly string[]): C;

  /** The cached child for a labels object, or undefined (miss or irregular input): no validation, no allocation. */
  protected cachedChild(labels: LabelsInput): C | undefined {
    return this.trie?.findByObject(labels);
  }

  /**
   * @internal An exemplar of `value` with `labels`, stamped now, for a child about to record
   * `value` (the children's `…WithExemplar` methods, which the `{ labels, value,
   * exemplarLabels }` form calls too). Throws before anything is recorded:
   * PROMFORK_OPERATION_NOT_SUPPORTED when the metric was created without `enableExemplars`,
   * PROMFORK_INVALID_EXEMPLAR for bad labels.
   */
  newExemplar(labels: unknown, value: number): Exemplar {
    if (!this.enableExemplars) {
      throw new InvalidOptionError(
        'PROMFORK_OPERATION_NOT_SUPPORTED',
        `Metric "${this.name}" got exemplarLabels but was created without enableExemplars: true`,
      );
    }
    return makeExemplar(labels, value, this.name);
  }

  /**
   * @internal Keeps `exemplar` as the latest of `slot` (a counter's 0, a histogram's bucket
   * index) of `child`, which has just recorded its value: on the child, for this process's
   * scrapes, and in the store, for other processes'. Not in the store while the metric is
   * forgotten in it (see {@link forgetInStore}): its children count on detached cells then,
   * and the store may hold another metric of the same name, whose series must not show this
   * one's exemplars.
   */
  keepExemplar(child: C, slot: number, exemplar: Exemplar): void {
    if (child.exemplars === undefined) return;
    child.exemplars[slot] = exemplar;
    if (this.declared) this.store.exemplar?.(this.descriptor, child.labelValues, slot, exemplar);
  }

  /**
   * The child bound to one label set, created (at zero) on first use and cached. Its methods
   * are the fast path: they touch the series' cells directly.
   */
  labels(...values: LabelValue[]): C;
  labels(labels: LabelValues<T>): C;
  labels(...args: unknown[]): C {
    if (args.length === 1 && typeof args[0] === 'object' && args[0] !== null) {
      return this.child(args[0] as LabelsInput);
    }
    return this.childByValues(valuesFromArgs(this.labelNames, args, this.name));
  }

  /** Drops the series of one label set (by position or object). Its child stops being exported. */
  remove(...values: LabelValue[]): void;
  remove(labels: LabelValues<T>): void;
  remove(...args: unknown[]): void {
    const values = valuesFromArgs(this.labelNames, args, this.name);
    // A removed metric's values are gone from the store already; the store may meanwhile hold
    // another metric of the same name (a file store keys by name), which must stay untouched.
    if (this.declared) {
      this.store.remove(this.descriptor, values);
      for (const peer of this.sharingPeers()) peer.droppedByPeer(values);
    }
    this.dropSeriesOf(values);
  }

  /** The local part of {@link remove}: this metric's child of `values` writes anew. */
  private dropSeriesOf(values: readonly string[]): void {
    if (this.trie === undefined) {
      // An unlabelled metric always exports its one series: it restarts at zero.
      if (this.unlabelled !== undefined) this.detach(this.unlabelled);
      this.unlabelled = this.createChild(this.seriesCells([]), []);
    } else {
      const child = this.trie.find(values);
      if (child !== undefined) {
        this.detach(child);
        this.trie.delete(values);
        this.seriesCount--;
      }
    }
    this.childrenWentStale();
  }

  /**
   * Drops every series of this metric (in this process) and recreates the unlabelled series
   * and the `initLabelSets` at zero.
   */
  reset(): void {
    if (this.declared) {
      this.store.reset(this.descriptor);
      for (const peer of this.sharingPeers()) peer.droppedByPeer(undefined);
    }
    this.resetChildren();
  }

  /** The local part of {@link reset}: every child writes anew, the up-front series at zero. */
  private resetChildren(): void {
    this.detachAll();
    this.trie?.clear();
    this.seriesCount = 0;
    this.createUpFront();
    this.childrenWentStale();
  }

  /**
   * Makes sure the series of `labels` exists, so it is exported at zero before its first
   * event. An existing series keeps its values.
   */
  zero(labels: LabelValues<T>): void {
    this.child(labels as LabelsInput);
  }

  /** The metric as prom-client's `get()` returns it, merged across processes by the store. */
  async get(): Promise<MetricObject> {
    await this.runCollect();
    // A metric removed from every registry has no values in the store; looking it up by name
    // would find whatever metric took the name since (another type, other labels).
    const family = this.declared
      ? pickFamily(
          this.store.collect((name) => name === this.name),
          this.descriptor,
        )
      : undefined;
    const collected = family ?? { descriptor: this.descriptor, series: [] };
    return familyToMetricObject(collected, {
      aggregator: this.aggregator,
      exemplars: latestExemplarOf(collected, this),
      nowMs: Date.now(),
    });
  }

  /**
   * Adds a function run synchronously, before the user's collect callback, whenever this metric
   * is read (`get()` or a registry scrape). The tracer uses it to bring running jobs up to date.
   * Returns a function that removes the hook.
   */
  addCollectHook(hook: () => void): () => void {
    return addHook(this.collectHooks, hook);
  }

  /**
   * Adds a function called whenever series of children handed out earlier were dropped: after
   * `remove`, `reset`, and the metric's removal from its last registry or its return. Such
   * children stay usable (their next update creates their series again), so this is for code
   * that caches children and wants to start over with the metric: the HTTP instrumentation
   * empties its cache there, which keeps the cache as small as the metric's series.
   * Returns a function that removes the hook.
   */
  addStaleChildrenHook(hook: () => void): () => void {
    return addHook(this.staleChildrenHooks, hook);
  }

  private childrenWentStale(): void {
    for (const hook of this.staleChildrenHooks) hook();
  }

  /** Runs the collect hooks, then the user's collect callback (awaited), if any. Used by `get()` and registries. */
  async runCollect(): Promise<void> {
    for (const hook of this.collectHooks) hook();
    if (this.collectCallback !== undefined) await this.collectCallback.call(this);
  }

  /** The latest exemplar recorded for a series at `slot`, if exemplars are enabled. */
  exemplarFor(labelValues: readonly string[], slot: number): Exemplar | undefined {
    if (!this.enableExemplars) return undefined;
    const child = this.trie === undefined ? this.unlabelled : this.trie.find(labelValues);
    return child?.exemplars?.[slot];
  }

  /**
   * Forgets this metric's values in its store; called by a registry removing it when no other
   * registry holds it. Until it is registered again the metric no longer touches the store:
   * children handed out earlier and children made meanwhile work on detached cells, `get()`
   * reports no series, and `remove`/`reset` leave the store alone (it may hold another metric
   * of the same name by then).
   */
  forgetInStore(): void {
    if (!this.declared) return;
    this.declared = false;
    // Another object of this name and definition still declared on a store that shares
    // series by name holds the same series: they stay (and count on) for it. One of another
    // definition shares none: this one's series go, as they would without it.
    const others = this.ofThisDefinition(leaveSharers(this.store, this.name, this.sharer));
    if (others.length === 0) this.store.forget(this.descriptor);
    noteForgotten(this.store, this.name);
    this.detachAll();
    this.trie?.clear();
    this.seriesCount = 0;
    // On detached cells (seriesCells while undeclared): the unlabelled child is always there.
    this.createUpFront();
    this.childrenWentStale();
  }

  /** Declares the metric in its store again after {@link forgetInStore} (re-registration). */
  ensureDeclared(): void {
    if (this.declared) return;
    this.declared = true;
    this.store.declare(this.descriptor);
    noteDeclared(this.store, this.name);
    joinSharers(this.store, this.name, this.sharer);
    // Children made while removed hold detached cells: start over from the store.
    this.detachAll();
    this.trie?.clear();
    this.seriesCount = 0;
    this.createUpFront();
    this.childrenWentStale();
  }

  /**
   * Gives `child`, and every child sharing its series, cells that re-attach it on first access
   * (see reattaching-cells.ts): its series is being dropped.
   */
  private detach(child: C): void {
    this.seriesDrops++;
    child.cells = new ReattachingCells(this.reattacher, child);
    const sharing = this.sharers.get(child);
    if (sharing === undefined) return;
    this.sharers.delete(child);
    for (const other of sharing) other.cells = new ReattachingCells(this.reattacher, other);
  }

  /** {@link detach} for every series of the metric in this process. */
  private detachAll(): void {
    if (this.unlabelled !== undefined) this.detach(this.unlabelled);
    if (this.trie !== undefined) for (const child of this.trie.children()) this.detach(child);
  }

  /**
   * Makes `child`, whose series was dropped, write into the current series of its label values
   * (created at zero when missing, through the same path as `labels(...)`) and returns that
   * series' cells. When the series cannot be kept (`maxSeries`, counted there) or creating it
   * fails (reported through `onError`), this update goes nowhere, and so do the next ones until
   * the metric drops a series again (which may make room).
   */
  private reattach(child: C): Cells {
    let current: C | undefined;
    try {
      current = this.childByValues(child.labelValues);
    } catch (error) {
      this.report(error as Error);
    }
    if (current === undefined || current === child || isDroppedChild(current)) {
      child.cells = new ReattachingCells(this.reattacher, child, this.seriesDrops);
      return DROPPED_CELLS;
    }
    this.share(child, current);
    const sharing = this.sharers.get(current);
    if (sharing === undefined) this.sharers.set(current, [child]);
    else sharing.push(child);
    return current.cells;
  }

  /**
   * Makes `child`, whose series was dropped, write into the series of `current` (the metric's
   * child of the same label values): the same cells and exemplars. A child type with more
   * per-series state shares that too.
   */
  protected share(child: C, current: C): void {
    child.cells = current.cells;
    if (current.exemplars !== undefined) child.exemplars = current.exemplars;
  }

  /**
   * The other objects of this name whose series are this metric's too: declared on the same
   * store, which shares series by name, with the same definition (one of another definition
   * has the name's family dropped and declared anew by the store whenever it writes).
   */
  private sharingPeers(): SeriesSharer[] {
    return this.ofThisDefinition(peersOf(this.store, this.name, this.sharer));
  }

  /** The objects of `peers` with this metric's definition: only those share its series. */
  private ofThisDefinition(peers: SeriesSharer[]): SeriesSharer[] {
    return peers.filter((peer) => sameDefinition(peer.descriptor, this.descriptor));
  }

  /** Hands `error` to `onError`; a throwing hook is ignored (instrumentation never throws). */
  private report(error: Error): void {
    try {
      this.onError(error);
    } catch {
      // A throwing error hook must not turn a dropped update into an exception.
    }
  }

  /** The cells of a new series: the store's, or detached ones while the metric is removed. */
  private seriesCells(values: readonly string[]): Cells {
    return this.declared
      ? this.store.series(this.descriptor, values)
      : detachedCells(seriesSize(this.descriptor));
  }

  /** The child for a labels object: trie lookup first, validating slow path on a miss. */
  protected child(labels: LabelsInput): C {
    const trie = this.trie;
    if (trie === undefined) {
      for (const key in labels) {
        throw new LabelSetError(
          'PROMFORK_LABEL_SET_MISMATCH',
          `Unexpected label ${describeValue(key)} for metric "${this.name}": it declares no labels`,
        );
      }
      return this.unlabelledChild();
    }
    return (
      trie.findByObject(labels) ??
      this.childByValues(valuesFromObject(this.labelNames, labels, this.name))
    );
  }

  /**
   * Applies `update` to the child of `labels`, never leaving a series behind for an update
   * that throws. A cached child gets `update` directly. On a miss the labels are validated
   * first (so label errors come first, as on every path), then `update` is tried on a probe
   * child whose cells go nowhere, and only when that succeeds is the series created (or dropped
   * by `maxSeries`) and `update` applied to it. So a bad value, an unsupported operation or bad
   * exemplar labels throw without creating the series at 0. Metric methods call this on the
   * cache-miss path only: the cached-child fast path is unchanged.
   *
   * `update` receives `arg` (the value), so the update methods pass a module-level function
   * and create no closure: a closure over a method's parameter makes V8 allocate a context on
   * EVERY call of that method, the cached fast path included (measured: +3 to 7 ns per
   * labelled `inc`, about 10%).
   */
  protected applyTo<A>(labels: LabelsInput, update: (child: C, arg: A) => void, arg: A): void {
    const trie = this.trie;
    const found = trie === undefined ? this.child(labels) : trie.findByObject(labels);
    if (found !== undefined) {
      update(found, arg);
      return;
    }
    const values = valuesFromObject(this.labelNames, labels, this.name);
    assertUnicodeLabelValues(values, this.labelNames, this.name);
    assertSeriesKeySize(values, this.name);
    this.probe ??= this.createChild(PROBE_CELLS, []);
    update(this.probe, arg);
    update(this.childByValues(values), arg);
  }

  /** {@link applyTo} for a ValueData call: absent labels mean the unlabelled series. */
  protected applyToData<A>(data: ValueData<T>, update: (child: C, arg: A) => void, arg: A): void {
    if (data.labels === undefined) update(this.unlabelledChild(), arg);
    else this.applyTo(data.labels as LabelsInput, update, arg);
  }

  /** The child for validated label values in declared order, creating it on first use. */
  protected childByValues(values: readonly string[]): C {
    const trie = this.trie;
    if (trie === undefined) return this.unlabelledChild();
    let child = trie.find(values);
    if (child === undefined) {
      assertUnicodeLabelValues(values, this.labelNames, this.name);
      assertSeriesKeySize(values, this.name);
      // The series limit is checked here, on a cache miss only: cached children never see it.
      if (this.seriesCount >= this.maxSeries) return this.droppedChild(values);
      child = this.createChild(this.seriesCells(values), values);
      trie.insert(values, child);
      this.seriesCount++;
    }
    return child;
  }

  /**
   * A child for a label set beyond `maxSeries`: not cached, its cells go nowhere until the
   * metric drops a series (then its next update tries again, see reattaching-cells.ts). Counts
   * the drop and reports the first one.
   */
  private droppedChild(values: readonly string[]): C {
    const first = this.dropChild === undefined;
    // Again when a registry of the metric lost the drop counter (`clear` and registering the
    // metric again, say): its drops would go on counting where no scrape shows them.
    if (first || dropCounterMissing(this)) this.dropChild = dropCounterChild(this);
    if (first) {
      this.report(
        new LabelSetError(
          'PROMFORK_SERIES_LIMIT',
          `Metric "${this.name}" reached maxSeries (${this.maxSeries} label sets); updates of ` +
            `new label sets such as [${values.map((v) => describeValue(v)).join(', ')}] are ` +
            `dropped and counted in ${SERIES_DROPPED_TOTAL}{metric="${this.name}"}`,
        ),
      );
    }
    // Through the child, not its cells: a reset of the drop counter re-attaches it.
    (this.dropChild as ChildBase).cells.add(0, 1);
    const child = this.createChild(DROPPED_CELLS, values);
    child.cells = new ReattachingCells(this.reattacher, child, this.seriesDrops);
    return child;
  }

  /** The child of an unlabelled metric; a labelled metric called without labels throws. */
  protected unlabelledChild(): C {
    const child = this.unlabelled;
    if (child === undefined) {
      throw new LabelSetError(
        'PROMFORK_LABEL_SET_MISMATCH',
        `Missing labels for metric "${this.name}": expected exactly the declared labels ` +
          `${this.labelNames.join(', ')} (pass them as an object, or use labels(...))`,
      );
    }
    return child;
  }

  /**
   * Splits prom-client 15's `{ labels, value, exemplarLabels }` form from a plain labels object.
   * Returns undefined when `arg` is a labels object.
   */
  protected asValueData(arg: LabelsInput): ValueData<T> | undefined {
    let any = false;
    for (const key in arg) {
      if (!VALUE_DATA_KEYS.has(key) || (this.labelNames as readonly string[]).includes(key)) {
        return undefined;
      }
      any = true;
    }
    return any ? (arg as ValueData<T>) : undefined;
  }

  /**
   * Starts a timer; the returned function gives the elapsed seconds to `record` together with
   * the start labels merged with the end labels, and returns the seconds.
   */
  protected timer(
    startLabels: Partial<LabelValues<T>> | undefined,
    record: (child: C, seconds: number) => void,
  ): (endLabels?: Partial<LabelValues<T>>) => number {
    const start = performance.now();
    return (endLabels) => {
      const seconds = secondsSince(start);
      const labels =
        endLabels === undefined ? startLabels : ({ ...startLabels, ...endLabels } as LabelsInput);
      if (labels === undefined) record(this.unlabelledChild(), seconds);
      else this.applyTo(labels as LabelsInput, record, seconds);
      return seconds;
    };
  }

  private createUpFront(): void {
    if (this.trie === undefined) {
      this.unlabelled = this.createChild(this.seriesCells([]), []);
    }
    for (const values of this.initSets) this.childByValues(values);
  }
}

function missing(where: string, key: string): never {
  throw new InvalidOptionError('PROMFORK_MISSING_OPTION', `${where}: option "${key}" is required`);
}

/**
 * The counter of label sets dropped by `maxSeries` (one series per metric). A metric of its
 * own, kept in the dropping metric's store and registries so every scrape that shows the
 * metric shows its drops, summed over processes like any counter.
 */
class SeriesDroppedCounter extends Metric<'metric', ChildBase> {
  constructor(store: Store, registers: readonly Registry[]) {
    super(
      {
        name: SERIES_DROPPED_TOTAL,
        help: 'Updates of new label sets dropped because their metric reached maxSeries.',
        labelNames: ['metric'],
        store,
        registers,
      },
      COMMON_OPTION_KEYS,
      () => ({ type: 'counter' }),
    );
  }

  protected createChild(cells: Cells, labelValues: readonly string[]): ChildBase {
    return { cells, labelValues };
  }
}

/** True when a registry of `metric` holds no metric named {@link SERIES_DROPPED_TOTAL}. */
function dropCounterMissing(metric: Metric<string, ChildBase>): boolean {
  for (const registry of metric.registries) {
    if (registry.getSingleMetric(SERIES_DROPPED_TOTAL) === undefined) return true;
  }
  return false;
}

/**
 * The child counting `metric`'s drops: of the drop counter already in one of its registries
 * (for the same store), or of a new one registered in every registry of `metric` where the
 * name is free.
 */
function dropCounterChild(metric: Metric<string, ChildBase>): ChildBase {
  let counter: SeriesDroppedCounter | undefined;
  const free: Registry[] = [];
  for (const registry of metric.registries) {
    const existing = registry.getSingleMetric(SERIES_DROPPED_TOTAL);
    if (existing === undefined) free.push(registry);
    else if (existing instanceof SeriesDroppedCounter && existing.store === metric.store) {
      counter ??= existing;
    }
  }
  if (counter === undefined) counter = new SeriesDroppedCounter(metric.store, free);
  else for (const registry of free) registry.registerMetric(counter);
  return counter.labels(metric.name);
}
