/**
 * Collected families -> exposition text, directly: the registry's scrape path.
 *
 * The output is byte for byte what `formatText` / `formatOpenMetrics` make of
 * `familyToMetricObject` (snapshot.ts) for the same families; `get()` and `getMetricsAsJSON()`
 * keep going through MetricObject. This file applies the same label order as snapshot.ts and
 * the same escaping and number rules as exposition/*, calling the same functions; it only
 * skips what a scrape does not need: one labels object per sample (a histogram series with
 * 11 buckets made 14 of them), one escape of every label value per sample, and a re-render of
 * unchanged series. A test (render-paths.test.ts) renders a fixture with every type, default
 * labels, `pid` labels, escaping and exemplars both ways and compares the text.
 *
 * The text is written as bytes into a TextBuffer (text-buffer.ts says why). Per series, the
 * declared labels are escaped once (and encoded once where a line needs their bytes) and kept
 * between scrapes: on the series itself where it carries a `renderCache` slot (a store hands
 * out the same series at every scrape), else keyed by the series' `labelValues` array (stores
 * hand out the same, never mutated, array for a series as long as it exists; see
 * CollectedSeries). Irregular families, where a default or store
 * label would collide with `le` / `quantile`, are rendered through MetricObject instead, so
 * every corner keeps exactly the generic behaviour.
 */
import { escapeHelpOpenMetrics, escapeHelpText, escapeLabelValue } from './exposition/escape.js';
import { plainNumberLabel, renderLabelSet } from './exposition/label-set.js';
import { formatNumericLabel, formatValue } from './exposition/number.js';
import {
  canonicalLabel,
  formatOpenMetrics,
  openMetricsFamilyName,
  renderExemplar,
} from './exposition/openmetrics.js';
import { formatText } from './exposition/text.js';
import { sketchQuantiles } from './sketch.js';
import { familyToMetricObject, type SnapshotOptions, sampleLabels } from './snapshot.js';
import {
  type CollectedFamily,
  type CollectedSeries,
  GAUGE_VALUE,
  histogramCountIndex,
  histogramSumIndex,
  SUMMARY_COUNT,
  SUMMARY_SKETCH,
  SUMMARY_SUM,
} from './store.js';
import { type EncodedText, encodeText, TextBuffer } from './text-buffer.js';
import type { MetricDescriptor } from './types.js';

/** The two exposition formats. */
export type RenderFormat = 'prometheus' | 'openmetrics';

/** One family to render with the options snapshot.ts would convert it with. */
export interface RenderItem {
  readonly family: CollectedFamily;
  readonly options: SnapshotOptions;
}

/** The escaped declared labels of one series, `a="x",b="y"`, and the names they were made for. */
class DeclaredLabels {
  /** `<sample name>{<labels>,<defaults>,` of the series' bucket/quantile lines, once made. */
  line?: EncodedText;
  /** The sample name and default labels {@link line} was made with. */
  lineName?: string;
  lineDefaults?: string;
  /**
   * `<sample name>{<labels>,<defaults>} ` of the series' one-line samples, once made: a string
   * when ASCII (the common case; less memory per series than bytes), else encoded.
   */
  sample?: string | EncodedText;
  /** The sample name and default labels {@link sample} was made with. */
  sampleName?: string;
  sampleDefaults?: string;

  /** {@link text} encoded, once a line written piece by piece needs it. */
  private bytes: EncodedText | undefined;

  constructor(
    /** The label values these are the text of (a series' cache slot may outlive them). */
    readonly values: readonly string[],
    readonly names: readonly string[],
    /** `a="x",b="y"`: the cached prefixes are made of it without decoding {@link encoded}. */
    readonly text: string,
  ) {}

  /** {@link text} as bytes (encoded when first asked: a counter's lines never need it). */
  get encoded(): EncodedText {
    this.bytes ??= encodeText(this.text);
    return this.bytes;
  }
}

/** What one family's series share while rendering. */
interface FamilyContext {
  readonly d: MetricDescriptor;
  readonly options: SnapshotOptions;
  /** The family's default labels, rendered (empty when none apply). */
  readonly defaults: EncodedText;
  readonly defaultsText: string;
}

const EOF = '# EOF\n';
const NONE: EncodedText = encodeText('');
/** Finds a character that is not ASCII (else a cached prefix is kept as a string: asciiText). */
const NON_ASCII = /[\u0080-\uffff]/;
const LF = 10;
const SPACE = 32;
const COMMA = 44;
const OPEN = 123;
const CLOSE = 125;

/**
 * Renders collected families to exposition text, caching each series' escaped labels between
 * scrapes. One per registry; holds no strong reference to any series.
 */
export class FamilyRenderer {
  private readonly declared = new WeakMap<readonly string[], DeclaredLabels>();
  /** Bytes of the previous render, the size hint of the next one. */
  private lastSize = 0;
  /**
   * The memory the last {@link render} wrote into, written over by the next one: its string
   * is a copy, so nothing reads these bytes any more. A fresh buffer per render cost a scrape
   * of a million series 22,000 page faults (89 MB of new memory, which malloc takes from and
   * returns to the kernel every time) and V8 a full GC now and then for the external memory
   * it announced. Kept between scrapes, as large as the last exposition. (`renderBytes` hands
   * its buffer out, so it never takes this one.)
   */
  private scratch: Buffer | undefined;

  /** The exposition of `items` in `format` (OpenMetrics ends with `# EOF`). */
  render(items: readonly RenderItem[], format: RenderFormat): string {
    const out = this.write(items, format, this.scratch);
    const text = out.finish();
    this.scratch = out.memory;
    return text;
  }

  /**
   * The same exposition as UTF-8 bytes (a view of the buffer it was written into): for a
   * response body, without the string (as large again) that {@link render} makes of them.
   */
  renderBytes(items: readonly RenderItem[], format: RenderFormat): Buffer {
    return this.write(items, format).bytesWritten();
  }

  private write(items: readonly RenderItem[], format: RenderFormat, reuse?: Buffer): TextBuffer {
    const om = format === 'openmetrics';
    const out = new TextBuffer(this.lastSize > 0 ? this.lastSize : sizeEstimate(items), reuse);
    for (const { family, options } of items) this.family(out, family, options, om);
    if (om) out.text(EOF);
    this.lastSize = out.length;
    return out;
  }

  private family(
    out: TextBuffer,
    family: CollectedFamily,
    options: SnapshotOptions,
    om: boolean,
  ): void {
    const d = family.descriptor;
    if (irregular(family, options)) {
      out.text(viaMetricObject(family, options, om));
      return;
    }
    const name = om ? openMetricsFamilyName(d) : d.name;
    if (om) out.text(`# TYPE ${name} ${d.type}\n`);
    if (d.help !== '') {
      out.text(`# HELP ${name} ${om ? escapeHelpOpenMetrics(d.help) : escapeHelpText(d.help)}\n`);
    }
    if (!om) out.text(`# TYPE ${name} ${d.type}\n`);
    const defaults = defaultsText(d.labelNames, options.defaultLabels);
    const context: FamilyContext = {
      d,
      options,
      defaults: encodeText(defaults),
      defaultsText: defaults,
    };
    switch (d.type) {
      case 'counter': {
        const sampleText = om ? `${name}_total` : name;
        const sampleName = encodeText(sampleText);
        const exemplars = om ? options.exemplars : undefined;
        for (const series of family.series) {
          if (series.extraLabels === undefined) {
            const prefix = this.samplePrefix(context, series, sampleText);
            if (typeof prefix === 'string') out.asciiText(prefix);
            else out.piece(prefix);
          } else {
            out.piece(sampleName);
            this.braced(out, context, series);
            out.byte(SPACE);
          }
          out.number(series.cells[0] ?? 0, formatValue);
          const exemplar = exemplars?.(series, 0);
          if (exemplar !== undefined) out.text(renderExemplar(exemplar));
          out.byte(LF);
        }
        return;
      }
      case 'gauge': {
        const sampleName = encodeText(name);
        for (const series of family.series) {
          const labels = this.labels(context, series);
          const value = series.cells[GAUGE_VALUE] ?? 0;
          sampleLine(out, sampleName, labels, this.defaultsOf(context, series), value);
        }
        return;
      }
      case 'histogram':
        this.histogram(out, context, family.series, om);
        return;
      case 'summary':
        this.summary(out, context, family.series, om);
        return;
    }
  }

  private histogram(
    out: TextBuffer,
    context: FamilyContext,
    seriesList: readonly CollectedSeries[],
    om: boolean,
  ): void {
    const { d, options } = context;
    const bounds = d.buckets;
    const n = bounds.length;
    // `le="<bound>"} ` per bucket, +Inf last: the same text both paths give a numeric `le`.
    const le: EncodedText[] = [];
    for (let i = 0; i <= n; i++) {
      const bound = i < n ? (bounds[i] as number) : undefined;
      const text = om
        ? canonicalLabel(bound === undefined ? '+Inf' : String(bound))
        : bound === undefined
          ? '+Inf'
          : formatNumericLabel(bound);
      le.push(encodeText(`le="${escapeLabelValue(text)}"} `));
    }
    const bucketName = `${d.name}_bucket`;
    const names = sumCountNames(d.name);
    const sumIndex = histogramSumIndex(n);
    const countIndex = histogramCountIndex(n);
    const exemplars = om ? options.exemplars : undefined;
    for (const series of seriesList) {
      const cells = series.cells;
      const open = this.openLine(context, series, bucketName);
      let cumulative = 0;
      for (let i = 0; i <= n; i++) {
        cumulative += cells[i] ?? 0;
        out.piece(open);
        out.piece(le[i] as EncodedText);
        out.number(cumulative, formatValue);
        const exemplar = exemplars?.(series, i);
        if (exemplar !== undefined) out.text(renderExemplar(exemplar));
        out.byte(LF);
      }
      this.sumAndCount(out, context, series, names, cells[sumIndex], cells[countIndex]);
    }
  }

  private summary(
    out: TextBuffer,
    context: FamilyContext,
    seriesList: readonly CollectedSeries[],
    om: boolean,
  ): void {
    const { d, options } = context;
    const settings = d.summary;
    const percentiles = settings?.percentiles ?? [];
    const quantileText = percentiles.map((q) =>
      encodeText(
        `quantile="${escapeLabelValue(om ? canonicalLabel(String(q)) : formatNumericLabel(q))}"} `,
      ),
    );
    const names = sumCountNames(d.name);
    for (const series of seriesList) {
      const cells = series.cells;
      if (settings !== undefined && percentiles.length > 0) {
        const quantiles = sketchQuantiles([cells], SUMMARY_SKETCH, settings, options.nowMs);
        const open = this.openLine(context, series, d.name);
        for (let i = 0; i < percentiles.length; i++) {
          out.piece(open);
          out.piece(quantileText[i] as EncodedText);
          out.number(quantiles[i] ?? Number.NaN, formatValue);
          out.byte(LF);
        }
      }
      this.sumAndCount(out, context, series, names, cells[SUMMARY_SUM], cells[SUMMARY_COUNT]);
    }
  }

  /** Writes `{labels}` of a series (nothing when it has no labels). */
  private braced(out: TextBuffer, context: FamilyContext, series: CollectedSeries): void {
    bracedLabels(out, this.labels(context, series), this.defaultsOf(context, series));
  }

  /**
   * Writes the `_sum` and `_count` lines of one histogram or summary series (absent slots read
   * as 0, as on the MetricObject path).
   */
  private sumAndCount(
    out: TextBuffer,
    context: FamilyContext,
    series: CollectedSeries,
    names: SumCountNames,
    sum: number | undefined,
    count: number | undefined,
  ): void {
    const labels = this.labels(context, series);
    const defaults = this.defaultsOf(context, series);
    sampleLine(out, names.sum, labels, defaults, sum ?? 0);
    sampleLine(out, names.count, labels, defaults, count ?? 0);
  }

  /** The registry's default labels, for series without store labels (those carry their own). */
  private defaultsOf(context: FamilyContext, series: CollectedSeries): EncodedText {
    return series.extraLabels === undefined ? context.defaults : NONE;
  }

  /**
   * `<name>{<labels>,` for the lines of a series that end with an added label (`le`,
   * `quantile`): cached with the series' labels, as long as name and defaults stay the same.
   */
  private openLine(context: FamilyContext, series: CollectedSeries, name: string): EncodedText {
    const record = series.extraLabels === undefined ? this.record(context, series) : undefined;
    if (
      record?.line !== undefined &&
      record.lineName === name &&
      record.lineDefaults === context.defaultsText
    ) {
      return record.line;
    }
    const defaults = record === undefined ? '' : context.defaultsText;
    let text = record?.text ?? bytesText(this.labels(context, series));
    if (defaults !== '') text = text === '' ? defaults : `${text},${defaults}`;
    const line = encodeText(text === '' ? `${name}{` : `${name}{${text},`);
    if (record !== undefined) {
      record.line = line;
      record.lineName = name;
      record.lineDefaults = defaults;
    }
    return line;
  }

  /**
   * `<name>{<labels>,<defaults>} ` (or `<name> `) of a one-line sample of a series without
   * store labels: cached with the series' labels, as long as name and defaults stay the same.
   */
  private samplePrefix(
    context: FamilyContext,
    series: CollectedSeries,
    name: string,
  ): string | EncodedText {
    const record = this.record(context, series);
    const defaults = context.defaultsText;
    if (
      record.sample !== undefined &&
      record.sampleName === name &&
      record.sampleDefaults === defaults
    ) {
      return record.sample;
    }
    const labels = record.text;
    const inner = labels !== '' && defaults !== '' ? `${labels},${defaults}` : labels + defaults;
    const text = inner === '' ? `${name} ` : `${name}{${inner}} `;
    record.sample = NON_ASCII.test(text) ? encodeText(text) : text;
    record.sampleName = name;
    record.sampleDefaults = defaults;
    return record.sample;
  }

  /**
   * The labels of a series before the family's default labels: the declared ones (cached),
   * or, for a series with store labels (per-process gauges, rare), the whole generic record in
   * snapshot.ts' order, defaults included.
   */
  private labels(context: FamilyContext, series: CollectedSeries): EncodedText {
    const { d } = context;
    if (series.extraLabels !== undefined) {
      const text = renderLabelSet(
        sampleLabels(d.labelNames, series, context.options.defaultLabels),
        plainNumberLabel,
      );
      return encodeText(text === '' ? '' : text.slice(1, -1));
    }
    return this.record(context, series).encoded;
  }

  /** The cached declared labels of a series without store labels. */
  private record(context: FamilyContext, series: CollectedSeries): DeclaredLabels {
    const names = context.d.labelNames;
    const kept = series.renderCache;
    if (kept instanceof DeclaredLabels && kept.values === series.labelValues) {
      if (kept.names === names || sameNames(kept.names, names)) return kept;
    }
    const values = series.labelValues;
    // A series that carries the slot (a store hands it out again at every scrape) keeps its
    // record there only: a WeakMap entry per series as well cost a cold scrape an insertion per
    // series, and a million kept series a million ephemerons that every full GC walks.
    const hasSlot = 'renderCache' in series;
    const cached = hasSlot ? undefined : this.declared.get(values);
    if (cached !== undefined && (cached.names === names || sameNames(cached.names, names))) {
      series.renderCache = cached;
      return cached;
    }
    let text = '';
    for (let i = 0; i < names.length; i++) {
      if (i > 0) text += ',';
      text += `${names[i]}="${escapeLabelValue(values[i] ?? '')}"`;
    }
    const record = new DeclaredLabels(values, names, text);
    if (!hasSlot) this.declared.set(values, record);
    series.renderCache = record;
    return record;
  }
}

/**
 * A generous guess of the bytes `items` render, for a renderer's first render: growing a
 * 14 MB buffer by doubling from 64 KB copied it eight times (a tenth of a cold scrape of
 * 8 × 10,000 series). Memory allocated beyond what is written is never touched, so it costs
 * address space, not resident memory.
 */
function sizeEstimate(items: readonly RenderItem[]): number {
  let total = 0;
  for (const { family } of items) {
    const d = family.descriptor;
    const lines =
      d.type === 'histogram'
        ? d.buckets.length + 3
        : d.type === 'summary'
          ? (d.summary?.percentiles.length ?? 0) + 2
          : 1;
    total += family.series.length * lines * (d.name.length + 32 + 32 * d.labelNames.length);
  }
  return total;
}

/**
 * Writes a series' labels then the defaults, comma separated, without braces. Returns whether
 * anything was written.
 */
function writeLabels(out: TextBuffer, labels: EncodedText, defaults: EncodedText): boolean {
  const hasLabels = labels.bytes.length > 0;
  const hasDefaults = defaults.bytes.length > 0;
  if (hasLabels) out.piece(labels);
  if (hasDefaults) {
    if (hasLabels) out.byte(COMMA);
    out.piece(defaults);
  }
  return hasLabels || hasDefaults;
}

/** The encoded `<name>_sum` and `<name>_count` sample names of a histogram or summary. */
interface SumCountNames {
  readonly sum: EncodedText;
  readonly count: EncodedText;
}

function sumCountNames(name: string): SumCountNames {
  return { sum: encodeText(`${name}_sum`), count: encodeText(`${name}_count`) };
}

/** Writes `<name>{<labels>} <value>` and the line end. */
function sampleLine(
  out: TextBuffer,
  name: EncodedText,
  labels: EncodedText,
  defaults: EncodedText,
  value: number,
): void {
  out.piece(name);
  bracedLabels(out, labels, defaults);
  out.byte(SPACE);
  out.number(value, formatValue);
  out.byte(LF);
}

function bracedLabels(out: TextBuffer, labels: EncodedText, defaults: EncodedText): void {
  if (labels.bytes.length === 0 && defaults.bytes.length === 0) return;
  out.byte(OPEN);
  writeLabels(out, labels, defaults);
  out.byte(CLOSE);
}

/** The text of an encoded piece. */
function bytesText(encoded: EncodedText): string {
  return Buffer.from(encoded.bytes.buffer, encoded.bytes.byteOffset, encoded.bytes.length).toString(
    'utf8',
  );
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The default labels a family's series get (those it does not declare), rendered. */
function defaultsText(
  names: readonly string[],
  defaults: Readonly<Record<string, string>> | undefined,
): string {
  if (defaults === undefined) return '';
  let text = '';
  for (const name in defaults) {
    if (!Object.hasOwn(defaults, name) || names.includes(name)) continue;
    text += `${text === '' ? '' : ','}${name}="${escapeLabelValue(defaults[name] as string)}"`;
  }
  return text;
}

/**
 * True when the generic path places labels differently from the direct one: a default or
 * store label named like the `le` / `quantile` label the family adds (its value would be
 * replaced in place instead of appended).
 */
function irregular(family: CollectedFamily, options: SnapshotOptions): boolean {
  const { type } = family.descriptor;
  const added = type === 'histogram' ? 'le' : type === 'summary' ? 'quantile' : undefined;
  if (added === undefined) return false;
  if (options.defaultLabels !== undefined && Object.hasOwn(options.defaultLabels, added)) {
    return true;
  }
  return family.series.some(
    (s) => s.extraLabels !== undefined && Object.hasOwn(s.extraLabels, added),
  );
}

function viaMetricObject(family: CollectedFamily, options: SnapshotOptions, om: boolean): string {
  const object = familyToMetricObject(family, options);
  return om ? formatOpenMetrics([object]).slice(0, -EOF.length) : formatText([object]);
}
