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
 * start of its lines (`<name>{<labels>,<defaults>} ` or `<name>_bucket{...,`) is escaped and
 * written once into a byte arena and copied from there at every later scrape
 * (series-prefixes.ts: no JavaScript object per series); a histogram's further bucket lines
 * and its `_sum` / `_count` labels are copied from its first line within the output. The
 * arena entry of a series is found through its `renderCache` slot where it carries one (a
 * store hands out the same series at every scrape), else by its `labelValues` array (stores
 * hand out the same, never mutated, array for a series as long as it exists; see
 * CollectedSeries). Irregular families, where a default or store label would collide with `le` / `quantile`, are rendered through MetricObject instead, so
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
import { type PrefixShape, SeriesPrefixes } from './series-prefixes.js';
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

/** What one family's series share while rendering. */
interface FamilyContext {
  readonly d: MetricDescriptor;
  readonly options: SnapshotOptions;
  /** The family's default labels, rendered (empty when none apply). */
  readonly defaults: string;
}

const EOF = '# EOF\n';
const LF = 10;
const SPACE = 32;
const OPEN = 123;
const CLOSE = 125;

/**
 * The start of the lines of one series that end with an added label (`<name>{<labels>,`), and
 * its labels for the `_sum` and `_count` lines.
 */
interface OpenLine {
  /** Bytes {@link write} writes. */
  readonly length: number;
  /** Writes `<name>{<labels>,`. */
  write(out: TextBuffer): void;
  /** Writes `{<labels>}`, or nothing when the series has no labels at all. */
  braced(out: TextBuffer): void;
}

/** The open line of a series without store labels: its kept prefix (series-prefixes.ts). */
class KeptLine implements OpenLine {
  private entry = 0;
  private shape: PrefixShape | undefined;
  /** Where {@link write} last wrote the prefix into the output, -1 before. */
  private at = -1;

  constructor(private readonly prefixes: SeriesPrefixes) {}

  /** Points this line at entry `entry` of `shape`. */
  bind(shape: PrefixShape, entry: number): this {
    this.shape = shape;
    this.entry = entry;
    this.at = -1;
    return this;
  }

  get length(): number {
    return this.prefixes.length(this.entry);
  }

  write(out: TextBuffer): void {
    this.at = out.length;
    this.prefixes.copy(out, this.entry);
  }

  braced(out: TextBuffer): void {
    const shape = this.shape as PrefixShape;
    if (this.at < 0) {
      this.prefixes.copyBraced(out, this.entry, shape);
      return;
    }
    // The labels of the line written above, copied within the output.
    const inner = this.length - shape.labelsAt - shape.tail.length;
    if (inner <= 0) return;
    out.byte(OPEN);
    out.again(this.at + shape.labelsAt, inner);
    out.byte(CLOSE);
  }
}

/** The open line of a series with store labels, made for one render (rare: not kept). */
class StoreLabelsLine implements OpenLine {
  private readonly open: EncodedText;

  constructor(
    name: string,
    private readonly labels: EncodedText,
  ) {
    const text = bytesText(labels);
    this.open = encodeText(text === '' ? `${name}{` : `${name}{${text},`);
  }

  get length(): number {
    return this.open.bytes.length;
  }

  write(out: TextBuffer): void {
    out.piece(this.open);
  }

  braced(out: TextBuffer): void {
    bracedLabels(out, this.labels);
  }
}

/**
 * Renders collected families to exposition text, keeping each series' line prefix between
 * scrapes (series-prefixes.ts). One per registry; holds no strong reference to any series.
 */
export class FamilyRenderer {
  private readonly prefixes = new SeriesPrefixes();
  /** The {@link OpenLine} of series without store labels, pointed at each in turn. */
  private readonly kept = new KeptLine(this.prefixes);
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
    if (this.lastSize === 0) {
      let series = 0;
      for (const { family } of items) series += family.series.length;
      this.prefixes.expect(series);
    }
    for (const { family, options } of items) this.family(out, family, options, om);
    if (om) out.text(EOF);
    this.lastSize = out.length;
    this.prefixes.settle();
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
    const context: FamilyContext = {
      d,
      options,
      defaults: defaultsText(d.labelNames, options.defaultLabels),
    };
    switch (d.type) {
      case 'counter': {
        const sampleText = om ? `${name}_total` : name;
        const shape = this.prefixes.shape(sampleText, d.labelNames, context.defaults, false);
        const sampleName = encodeText(sampleText);
        const exemplars = om ? options.exemplars : undefined;
        for (const series of family.series) {
          if (series.extraLabels === undefined) {
            this.prefixes.copy(out, this.prefixes.entry(series, shape));
          } else {
            out.piece(sampleName);
            bracedLabels(out, this.storeLabels(context, series));
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
        const shape = this.prefixes.shape(name, d.labelNames, context.defaults, false);
        const sampleName = encodeText(name);
        for (const series of family.series) {
          const value = series.cells[GAUGE_VALUE] ?? 0;
          if (series.extraLabels === undefined) {
            this.prefixes.copy(out, this.prefixes.entry(series, shape));
            out.number(value, formatValue);
            out.byte(LF);
          } else {
            sampleLine(out, sampleName, this.storeLabels(context, series), value);
          }
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
    const shape = this.prefixes.shape(bucketName, d.labelNames, context.defaults, true);
    const names = sumCountNames(d.name);
    const sumIndex = histogramSumIndex(n);
    const countIndex = histogramCountIndex(n);
    const exemplars = om ? options.exemplars : undefined;
    for (const series of seriesList) {
      const cells = series.cells;
      const line = this.openLine(context, shape, series, bucketName);
      // The other bucket lines copy the first one's prefix within the output.
      const start = out.length;
      const length = line.length;
      line.write(out);
      let cumulative = 0;
      for (let i = 0; i <= n; i++) {
        cumulative += cells[i] ?? 0;
        if (i > 0) out.again(start, length);
        out.piece(le[i] as EncodedText);
        out.number(cumulative, formatValue);
        const exemplar = exemplars?.(series, i);
        if (exemplar !== undefined) out.text(renderExemplar(exemplar));
        out.byte(LF);
      }
      this.sumAndCount(out, line, names, cells[sumIndex], cells[countIndex]);
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
    const shape = this.prefixes.shape(d.name, d.labelNames, context.defaults, true);
    const names = sumCountNames(d.name);
    for (const series of seriesList) {
      const cells = series.cells;
      const line = this.openLine(context, shape, series, d.name);
      if (settings !== undefined && percentiles.length > 0) {
        const quantiles = sketchQuantiles([cells], SUMMARY_SKETCH, settings, options.nowMs);
        const start = out.length;
        const length = line.length;
        line.write(out);
        for (let i = 0; i < percentiles.length; i++) {
          if (i > 0) out.again(start, length);
          out.piece(quantileText[i] as EncodedText);
          out.number(quantiles[i] ?? Number.NaN, formatValue);
          out.byte(LF);
        }
      }
      this.sumAndCount(out, line, names, cells[SUMMARY_SUM], cells[SUMMARY_COUNT]);
    }
  }

  /**
   * Writes the `_sum` and `_count` lines of one histogram or summary series (absent slots read
   * as 0, as on the MetricObject path).
   */
  private sumAndCount(
    out: TextBuffer,
    line: OpenLine,
    names: SumCountNames,
    sum: number | undefined,
    count: number | undefined,
  ): void {
    out.piece(names.sum);
    line.braced(out);
    out.byte(SPACE);
    out.number(sum ?? 0, formatValue);
    out.byte(LF);
    out.piece(names.count);
    line.braced(out);
    out.byte(SPACE);
    out.number(count ?? 0, formatValue);
    out.byte(LF);
  }

  /**
   * `<name>{<labels>,` of the lines of a series that end with an added label (`le`,
   * `quantile`): its kept prefix, or for a series with store labels, made now.
   */
  private openLine(
    context: FamilyContext,
    shape: PrefixShape,
    series: CollectedSeries,
    name: string,
  ): OpenLine {
    if (series.extraLabels === undefined) {
      return this.kept.bind(shape, this.prefixes.entry(series, shape));
    }
    return new StoreLabelsLine(name, this.storeLabels(context, series));
  }

  /**
   * The labels of a series with store labels (per-process gauges, rare): the whole generic
   * record in snapshot.ts' order, defaults included, without braces. Not cached.
   */
  private storeLabels(context: FamilyContext, series: CollectedSeries): EncodedText {
    const text = renderLabelSet(
      sampleLabels(context.d.labelNames, series, context.options.defaultLabels),
      plainNumberLabel,
    );
    return encodeText(text === '' ? '' : text.slice(1, -1));
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

/** The encoded `<name>_sum` and `<name>_count` sample names of a histogram or summary. */
interface SumCountNames {
  readonly sum: EncodedText;
  readonly count: EncodedText;
}

function sumCountNames(name: string): SumCountNames {
  return { sum: encodeText(`${name}_sum`), count: encodeText(`${name}_count`) };
}

/** Writes `<name>{<labels>} <value>` and the line end (a series with store labels). */
function sampleLine(out: TextBuffer, name: EncodedText, labels: EncodedText, value: number): void {
  out.piece(name);
  bracedLabels(out, labels);
  out.byte(SPACE);
  out.number(value, formatValue);
  out.byte(LF);
}

/** Writes `{<labels>}`, or nothing when there are none. */
function bracedLabels(out: TextBuffer, labels: EncodedText): void {
  if (labels.bytes.length === 0) return;
  out.byte(OPEN);
  out.piece(labels);
  out.byte(CLOSE);
}

/** The text of an encoded piece. */
function bytesText(encoded: EncodedText): string {
  return Buffer.from(encoded.bytes.buffer, encoded.bytes.byteOffset, encoded.bytes.length).toString(
    'utf8',
  );
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
