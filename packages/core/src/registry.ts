/**
 * Registries: named collections of metrics that render together (prom-client compatible), and
 * the default registry `register`.
 *
 * A scrape runs every metric's `collect` callback, asks each store the registry's metrics live
 * in for their families (one `collect()` per store, already merged across processes), and
 * renders them: text formats with render.ts, the protobuf format with render-protobuf.ts.
 *
 * Families only other processes declared ("foreign" families, which a file store returns too)
 * are shown by a registry created with `includeForeignFamilies: true` (the default registry
 * is), and only when no metric object of this process declared that name on that store: a
 * primary or a worker that never touched a metric still serves it, and a metric this process
 * keeps in a custom registry does not leak into the default one.
 */
import { isDeclaredHere } from './declarations.js';
import { defaultStoreForForeignFamilies } from './default-store.js';
import { AlreadyRegisteredError, describeValue, InvalidOptionError } from './errors.js';
import {
  negotiateFormat,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
} from './exposition/index.js';
import type { ChildBase, Metric } from './metric.js';
import { FamilyRenderer, type RenderFormat, type RenderItem } from './render.js';
import { ProtobufRenderer } from './render-protobuf.js';
import { familyToMetricObject, latestExemplarOf, pickFamily } from './snapshot.js';
import type { CollectedFamily, Store } from './store.js';
import type { MetricObject } from './types.js';
import { assertLabelName, assertOptionKeys, labelValueString } from './validation.js';

/** Any metric a registry can hold. */
export type AnyMetric = Metric<string, ChildBase>;

/** The two content types a registry renders (`metrics()`) in. */
export type RegistryContentType = typeof PROMETHEUS_CONTENT_TYPE | typeof OPENMETRICS_CONTENT_TYPE;

/** Options of {@link Registry} (prom-client's positional content type is accepted too). */
export interface RegistryOptions {
  /**
   * Format of `metrics()`. `scrape(accept)` negotiates per request instead.
   * @default PROMETHEUS_CONTENT_TYPE
   */
  contentType?: RegistryContentType;
  /**
   * Also render families that no metric object of this process declared but a multi-process
   * store reports (declared by other processes). See the module comment.
   * @default false (true for the default registry `register`)
   */
  includeForeignFamilies?: boolean;
}

/** The result of {@link Registry.scrape}: what an HTTP handler sends. */
export interface ScrapeResult {
  readonly contentType: string;
  /**
   * Text for the text formats; bytes (a Node Buffer, typed as the Uint8Array it is) for the
   * protobuf format. Send either as is.
   */
  readonly body: string | Uint8Array;
}

/** A {@link ScrapeResult} in a text format (what `scrape()` without an Accept header gives). */
export interface TextScrapeResult extends ScrapeResult {
  readonly body: string;
}

const CONTENT_TYPES: readonly string[] = [PROMETHEUS_CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE];

function assertContentType(contentType: unknown, where: string): RegistryContentType {
  if (!CONTENT_TYPES.includes(contentType as string)) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `${where}: invalid content type ${describeValue(contentType)}: expected ` +
        `"${PROMETHEUS_CONTENT_TYPE}" or "${OPENMETRICS_CONTENT_TYPE}"`,
    );
  }
  return contentType as RegistryContentType;
}

/** A collection of metrics rendered together. */
export class Registry {
  /** Content type of the Prometheus text format 0.0.4. */
  static readonly PROMETHEUS_CONTENT_TYPE = PROMETHEUS_CONTENT_TYPE;
  /** Content type of OpenMetrics 1.0.0. */
  static readonly OPENMETRICS_CONTENT_TYPE = OPENMETRICS_CONTENT_TYPE;

  /** Whether families declared only by other processes are rendered (see the module comment). */
  readonly includeForeignFamilies: boolean;
  private readonly metricsByName = new Map<string, AnyMetric>();
  private defaultLabels: Readonly<Record<string, string>> = {};
  private format: RegistryContentType;
  /** Renders scrapes; caches each series' escaped labels between scrapes. */
  private readonly renderer = new FamilyRenderer();
  /** Renders protobuf scrapes; made on the first one. */
  private protobufRenderer: ProtobufRenderer | undefined;

  constructor(options?: RegistryContentType | RegistryOptions) {
    if (options === undefined || typeof options === 'string') {
      this.format = assertContentType(options ?? PROMETHEUS_CONTENT_TYPE, 'new Registry()');
      this.includeForeignFamilies = false;
      return;
    }
    assertOptionKeys(options, ['contentType', 'includeForeignFamilies'], 'new Registry()');
    this.format = assertContentType(
      options.contentType ?? PROMETHEUS_CONTENT_TYPE,
      'new Registry()',
    );
    const foreign = options.includeForeignFamilies ?? false;
    if (typeof foreign !== 'boolean') {
      throw new InvalidOptionError(
        'PROMFORK_INVALID_OPTION',
        `new Registry(): invalid option "includeForeignFamilies" ${describeValue(foreign)}: expected a boolean`,
      );
    }
    this.includeForeignFamilies = foreign;
  }

  /** Content type of `metrics()`: the one given at construction or by the last `setContentType`. */
  get contentType(): RegistryContentType {
    return this.format;
  }

  /**
   * Switches the format of `metrics()` (Prometheus text or OpenMetrics). On the default
   * registry `register` this also updates the module-level {@link contentType} export.
   */
  setContentType(contentType: RegistryContentType): void {
    this.format = assertContentType(contentType, 'setContentType');
    // The module export mirrors the default registry, as prom-client's does (a live binding).
    if (this === register) defaultRegistryContentType = this.format;
  }

  /**
   * Adds a metric. Registering the same object again is a no-op; another metric under a taken
   * name throws AlreadyRegisteredError carrying the existing one.
   */
  registerMetric(metric: AnyMetric): void {
    const existing = this.metricsByName.get(metric.name);
    if (existing === metric) return;
    if (existing !== undefined) throw new AlreadyRegisteredError(metric.name, existing);
    this.metricsByName.set(metric.name, metric);
    metric.registries.add(this);
    metric.ensureDeclared();
  }

  /**
   * The metric registered as `options.name`, or a new one made with `ctor(options)` and
   * registered here. Throws PROMFORK_METRIC_TYPE_MISMATCH when the existing metric has another
   * type or other label names. `options.registers` must be absent (it is this registry).
   */
  getOrCreate<M extends AnyMetric, O extends { name: string; labelNames?: readonly string[] }>(
    ctor: new (options: O) => M,
    options: O,
  ): M {
    const existing = this.metricsByName.get(options.name);
    if (existing !== undefined) {
      const labels = options.labelNames ?? [];
      const sameLabels =
        labels.length === existing.labelNames.length &&
        labels.every((name, i) => existing.labelNames[i] === name);
      if (!(existing instanceof ctor) || !sameLabels) {
        throw new InvalidOptionError(
          'PROMFORK_METRIC_TYPE_MISMATCH',
          `getOrCreate: metric "${options.name}" exists as a ${existing.type} with labels ` +
            `[${existing.labelNames.join(', ')}]: expected a ${ctor.name} with labels [${labels.join(', ')}]`,
        );
      }
      return existing;
    }
    if ('registers' in options && options.registers !== undefined) {
      throw new InvalidOptionError(
        'PROMFORK_INVALID_OPTION',
        'getOrCreate: option "registers" is not allowed: the metric is registered in this registry',
      );
    }
    return new ctor({ ...options, registers: [this] });
  }

  /** The metric registered as `name`, or undefined. */
  getSingleMetric(name: string): AnyMetric | undefined {
    return this.metricsByName.get(name);
  }

  /** Every registered metric, in registration order. */
  getMetricsAsArray(): AnyMetric[] {
    return [...this.metricsByName.values()];
  }

  /**
   * Removes the metric registered as `name`. When no other registry holds it, its values are
   * dropped from its store, so a new metric of that name starts from zero.
   */
  removeSingleMetric(name: string): void {
    const metric = this.metricsByName.get(name);
    if (metric === undefined) return;
    this.metricsByName.delete(name);
    metric.registries.delete(this);
    if (metric.registries.size === 0) metric.forgetInStore();
  }

  /** Removes every metric (see removeSingleMetric) and the default labels. */
  clear(): void {
    for (const name of [...this.metricsByName.keys()]) this.removeSingleMetric(name);
    this.defaultLabels = {};
  }

  /** Resets every registered metric (see Metric.reset). */
  resetMetrics(): void {
    for (const metric of this.metricsByName.values()) metric.reset();
  }

  /**
   * Labels added to every sample this registry renders, unless the sample has a label of that
   * name. Replaces the previous default labels.
   */
  setDefaultLabels(labels: Readonly<Record<string, string | number>>): void {
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
      throw new InvalidOptionError(
        'PROMFORK_INVALID_OPTION',
        `setDefaultLabels: invalid labels ${describeValue(labels)}: expected an object of label values`,
      );
    }
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(labels)) {
      assertLabelName(name, '(default labels)');
      out[name] = labelValueString(value, name, '(default labels)');
    }
    this.defaultLabels = Object.freeze(out);
  }

  /** Every family as prom-client's MetricObject (default labels applied). */
  async getMetricsAsJSON(): Promise<MetricObject[]> {
    const items = await this.collectItems();
    return items.map(({ family, options }) => familyToMetricObject(family, options));
  }

  /** The exposition of every metric in this registry's content type. */
  async metrics(): Promise<string> {
    return this.renderer.render(await this.collectItems(), this.formatName());
  }

  /** The exposition of one metric (empty string when it is not registered). */
  async getSingleMetricAsString(name: string): Promise<string> {
    const metric = this.metricsByName.get(name);
    if (metric === undefined) return '';
    return this.renderer.render(await this.collectItems([metric], false), this.formatName());
  }

  /**
   * Renders every metric in the format an HTTP `Accept` header asks for (Prometheus text when
   * absent or unknown; see negotiateFormat): text, OpenMetrics, or delimited protobuf (then the
   * body is bytes). This is what the HTTP adapters call for GET /metrics.
   */
  scrape(): Promise<TextScrapeResult>;
  scrape(accept: string | undefined): Promise<ScrapeResult>;
  async scrape(accept?: string): Promise<ScrapeResult> {
    return this.scrapeAs(accept, false);
  }

  /**
   * As {@link scrape}, with the body always as bytes (UTF-8 for the text formats): what the
   * HTTP metrics routes send. It saves making a string of a large exposition (as large again
   * as the bytes, and a tenth or more of a scrape of a million series) only to encode it back.
   */
  async scrapeBytes(accept?: string): Promise<{ contentType: string; body: Uint8Array }> {
    return (await this.scrapeAs(accept, true)) as { contentType: string; body: Uint8Array };
  }

  /** A scrape in the format `accept` asks for; text formats as bytes when `bytes`. */
  private async scrapeAs(accept: string | undefined, bytes: boolean): Promise<ScrapeResult> {
    const format = negotiateFormat(accept);
    const items = await this.collectItems();
    if (format.name === 'protobuf') {
      this.protobufRenderer ??= new ProtobufRenderer();
      return { contentType: format.contentType, body: this.protobufRenderer.render(items) };
    }
    const body = bytes
      ? this.renderer.renderBytes(items, format.name)
      : this.renderer.render(items, format.name);
    return { contentType: format.contentType, body };
  }

  /**
   * A new registry holding the metrics of all `registers` (prom-client compatible). Their
   * content types must agree; a name present in two of them throws AlreadyRegisteredError.
   */
  static merge(registers: readonly Registry[]): Registry {
    const first = registers[0];
    const contentType = first === undefined ? PROMETHEUS_CONTENT_TYPE : first.contentType;
    for (const registry of registers) {
      if (registry.contentType !== contentType) {
        throw new InvalidOptionError(
          'PROMFORK_INVALID_OPTION',
          `Registry.merge: registries have different content types (${describeValue(contentType)} and ` +
            `${describeValue(registry.contentType)}): expected one`,
        );
      }
    }
    const merged = new Registry({
      contentType,
      includeForeignFamilies: registers.some((r) => r.includeForeignFamilies),
    });
    for (const registry of registers) {
      for (const metric of registry.getMetricsAsArray()) merged.registerMetric(metric);
    }
    return merged;
  }

  private formatName(): RenderFormat {
    return this.format === OPENMETRICS_CONTENT_TYPE ? 'openmetrics' : 'prometheus';
  }

  /**
   * Every family to render, each with the options snapshot.ts converts it with: the scrape
   * renders them directly (render.ts), `getMetricsAsJSON()` converts them to MetricObject.
   */
  private async collectItems(
    metrics: readonly AnyMetric[] = this.getMetricsAsArray(),
    foreign: boolean = this.includeForeignFamilies,
  ): Promise<RenderItem[]> {
    await Promise.all(metrics.map((metric) => metric.runCollect()));
    const byStore = new Map<Store, AnyMetric[]>();
    for (const metric of metrics) {
      const list = byStore.get(metric.store);
      if (list === undefined) byStore.set(metric.store, [metric]);
      else list.push(metric);
    }
    const foreignStore = foreign ? defaultStoreForForeignFamilies() : undefined;
    if (foreignStore !== undefined && !byStore.has(foreignStore)) byStore.set(foreignStore, []);

    const nowMs = Date.now();
    const defaultLabels = this.defaultLabels;
    const owned = new Map<AnyMetric, RenderItem>();
    const foreignFamilies = new Map<string, CollectedFamily>();
    for (const [store, storeMetrics] of byStore) {
      const names = new Set(storeMetrics.map((m) => m.name));
      // Rendered or converted before this registry collects again: cells may be reused.
      const families = (store.collectForScrape ?? store.collect).call(
        store,
        (name) =>
          names.has(name) ||
          (foreign && !this.metricsByName.has(name) && !isDeclaredHere(store, name)),
      );
      for (const metric of storeMetrics) {
        const family = pickFamily(families, metric.descriptor) ?? {
          descriptor: metric.descriptor,
          series: [],
        };
        owned.set(metric, {
          family,
          options: {
            aggregator: metric.aggregator,
            defaultLabels,
            exemplars: latestExemplarOf(family, metric.enableExemplars ? metric : undefined),
            nowMs,
          },
        });
      }
      for (const family of families) {
        const name = family.descriptor.name;
        if (!names.has(name) && !foreignFamilies.has(name)) foreignFamilies.set(name, family);
      }
    }
    const out = metrics.map((metric) => owned.get(metric) as RenderItem);
    for (const name of [...foreignFamilies.keys()].sort()) {
      out.push({
        family: foreignFamilies.get(name) as CollectedFamily,
        options: {
          defaultLabels,
          exemplars: latestExemplarOf(foreignFamilies.get(name) as CollectedFamily),
          nowMs,
        },
      });
    }
    return out;
  }
}

/**
 * The content type of the default registry `register`'s `metrics()`, as prom-client's
 * `contentType` export: it follows `register.setContentType()` (an ES module live binding, so
 * `import { contentType }` and `promfork.contentType` both read the current value). It does not
 * follow other registries; read `registry.contentType` for those. Unlike prom-client's it
 * cannot be assigned: call `register.setContentType()` instead. Exported as `contentType`.
 */
let defaultRegistryContentType: RegistryContentType = PROMETHEUS_CONTENT_TYPE;

export { defaultRegistryContentType as contentType };

/** The default registry: metrics register here unless their `registers` option says otherwise. */
export const register: Registry = new Registry({ includeForeignFamilies: true });

/** prom-client's name for the Prometheus text content type. */
export const prometheusContentType = PROMETHEUS_CONTENT_TYPE;
/** prom-client's name for the OpenMetrics content type. */
export const openMetricsContentType = OPENMETRICS_CONTENT_TYPE;
