/**
 * Collected families -> the delimited protobuf exposition (exposition/protobuf.ts says what is
 * written and why), directly, as render.ts does for the text formats: the same series, labels
 * in the same order (declared, store labels, then default labels), the same numbers, and the
 * exemplars OpenMetrics shows.
 *
 * Per series, the encoded label pairs of the declared labels are kept between scrapes, keyed by
 * the series' `labelValues` array (stores hand out the same, never mutated, array for a series
 * as long as it exists; see CollectedSeries), so a scrape of unchanged series copies bytes
 * instead of encoding strings.
 */

import { encodePiece, INITIAL_BYTES, ProtoWriter } from './exposition/proto-writer.js';
import {
  KEY,
  METRIC_TYPE,
  writeCount,
  writeExemplar,
  writeLabelPair,
  writeNativeHistogram,
} from './exposition/protobuf.js';
import type { RenderItem } from './render.js';
import { sketchQuantiles } from './sketch.js';
import { type SnapshotOptions, sampleLabels } from './snapshot.js';
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
import type { MetricDescriptor } from './types.js';

/** The encoded declared label pairs of one series, and the names they were made for. */
interface DeclaredPairs {
  readonly names: readonly string[];
  readonly bytes: Uint8Array;
}

/** What one family's series share while encoding. */
interface FamilyContext {
  readonly d: MetricDescriptor;
  readonly options: SnapshotOptions;
  /** The family's default label pairs, encoded (empty when none apply). */
  readonly defaults: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/**
 * Encodes collected families as a delimited protobuf exposition, caching each series' label
 * pairs between scrapes. One per registry; holds no strong reference to any series.
 */
export class ProtobufRenderer {
  private readonly declared = new WeakMap<readonly string[], DeclaredPairs>();
  /** Bytes of the previous render, the size hint of the next one. */
  private lastSize = 0;

  /** The exposition of `items`: one length-prefixed `MetricFamily` per family. */
  render(items: readonly RenderItem[]): Uint8Array {
    const out = new ProtoWriter(Math.max(INITIAL_BYTES, this.lastSize * 1.1));
    for (const { family, options } of items) this.family(out, family, options);
    this.lastSize = out.length;
    return out.finish();
  }

  private family(out: ProtoWriter, family: CollectedFamily, options: SnapshotOptions): void {
    const d = family.descriptor;
    const frame = out.beginFrame();
    out.string(KEY.family.name, d.name);
    if (d.help !== '') out.string(KEY.family.help, d.help);
    out.byte(KEY.family.type);
    out.varint(METRIC_TYPE[d.type]);
    const context: FamilyContext = {
      d,
      options,
      defaults: defaultPairs(d.labelNames, options.defaultLabels),
    };
    switch (d.type) {
      case 'counter': {
        const exemplars = options.exemplars;
        for (const series of family.series) {
          const metric = this.openMetric(out, context, series);
          const counter = out.begin(KEY.metric.counter);
          out.byte(KEY.value1);
          out.double(series.cells[0] ?? 0);
          const exemplar = exemplars?.(series, 0);
          if (exemplar !== undefined) writeExemplar(out, KEY.counter.exemplar, exemplar);
          out.end(counter);
          out.end(metric);
        }
        break;
      }
      case 'gauge':
        for (const series of family.series) {
          const metric = this.openMetric(out, context, series);
          const gauge = out.begin(KEY.metric.gauge);
          out.byte(KEY.value1);
          out.double(series.cells[GAUGE_VALUE] ?? 0);
          out.end(gauge);
          out.end(metric);
        }
        break;
      case 'histogram':
        this.histogram(out, context, family.series);
        break;
      case 'summary':
        this.summary(out, context, family.series);
        break;
    }
    out.end(frame);
  }

  private histogram(
    out: ProtoWriter,
    context: FamilyContext,
    seriesList: readonly CollectedSeries[],
  ): void {
    const { d, options } = context;
    const bounds = d.buckets;
    const n = bounds.length;
    // `upper_bound` of each finite bucket, encoded once per family.
    const upper = bounds.map((bound) =>
      encodePiece((w) => {
        w.byte(KEY.bucket.upperBound);
        w.double(bound);
      }),
    );
    const sumIndex = histogramSumIndex(n);
    const countIndex = histogramCountIndex(n);
    const exemplars = options.exemplars;
    const h = KEY.histogram;
    for (const series of seriesList) {
      const cells = series.cells;
      const native = series.native;
      const metric = this.openMetric(out, context, series);
      const histogram = out.begin(KEY.metric.histogram);
      writeCount(out, h.sampleCount, h.sampleCountFloat, native?.count ?? cells[countIndex] ?? 0);
      out.byte(h.sampleSum);
      out.double(native?.sum ?? cells[sumIndex] ?? 0);
      let cumulative = 0;
      for (let i = 0; i <= n; i++) {
        cumulative += cells[i] ?? 0;
        const exemplar = exemplars?.(series, i);
        // +Inf is implied by sample_count: written only to carry its exemplar.
        if (i === n && exemplar === undefined) break;
        const bucket = out.begin(h.bucket);
        writeCount(out, KEY.bucket.cumulativeCount, KEY.bucket.cumulativeCountFloat, cumulative);
        if (i < n) out.raw(upper[i] as Uint8Array);
        else {
          out.byte(KEY.bucket.upperBound);
          out.double(Number.POSITIVE_INFINITY);
        }
        if (exemplar !== undefined) writeExemplar(out, KEY.bucket.exemplar, exemplar);
        out.end(bucket);
      }
      if (native !== undefined) writeNativeHistogram(out, native);
      out.end(histogram);
      out.end(metric);
    }
  }

  private summary(
    out: ProtoWriter,
    context: FamilyContext,
    seriesList: readonly CollectedSeries[],
  ): void {
    const { d, options } = context;
    const settings = d.summary;
    const percentiles = settings?.percentiles ?? [];
    const quantileKeys = percentiles.map((q) =>
      encodePiece((w) => {
        w.byte(KEY.value1);
        w.double(q);
      }),
    );
    const s = KEY.summary;
    for (const series of seriesList) {
      const cells = series.cells;
      const metric = this.openMetric(out, context, series);
      const summary = out.begin(KEY.metric.summary);
      // Summary has no float count field; its counts are whole numbers.
      out.byte(s.sampleCount);
      out.varint(Math.max(0, Math.round(cells[SUMMARY_COUNT] ?? 0)));
      out.byte(s.sampleSum);
      out.double(cells[SUMMARY_SUM] ?? 0);
      if (settings !== undefined && percentiles.length > 0) {
        const quantiles = sketchQuantiles([cells], SUMMARY_SKETCH, settings, options.nowMs);
        for (let i = 0; i < percentiles.length; i++) {
          const quantile = out.begin(s.quantile);
          out.raw(quantileKeys[i] as Uint8Array);
          out.byte(KEY.value2);
          out.double(quantiles[i] ?? Number.NaN);
          out.end(quantile);
        }
      }
      out.end(summary);
      out.end(metric);
    }
  }

  /** Starts a `Metric` and writes its labels; returns what `out.end` needs. */
  private openMetric(out: ProtoWriter, context: FamilyContext, series: CollectedSeries): number {
    const start = out.begin(KEY.family.metric);
    if (series.extraLabels !== undefined) {
      // Store labels (per-process gauges, rare): the generic record, defaults included.
      const labels = sampleLabels(context.d.labelNames, series, context.options.defaultLabels);
      for (const name in labels) writeLabelPair(out, KEY.metric.label, name, String(labels[name]));
    } else {
      out.raw(this.declaredPairs(context.d.labelNames, series.labelValues));
      out.raw(context.defaults);
    }
    return start;
  }

  /** The cached label pairs of a series' declared labels. */
  private declaredPairs(names: readonly string[], values: readonly string[]): Uint8Array {
    const cached = this.declared.get(values);
    if (cached !== undefined && (cached.names === names || sameNames(cached.names, names))) {
      return cached.bytes;
    }
    const bytes =
      names.length === 0
        ? EMPTY
        : encodePiece((w) => {
            for (let i = 0; i < names.length; i++) {
              writeLabelPair(w, KEY.metric.label, names[i] as string, values[i] ?? '');
            }
          });
    this.declared.set(values, { names, bytes });
    return bytes;
  }
}

/** The default label pairs a family's series get (those it does not declare), encoded. */
function defaultPairs(
  names: readonly string[],
  defaults: Readonly<Record<string, string>> | undefined,
): Uint8Array {
  if (defaults === undefined) return EMPTY;
  const own = Object.keys(defaults).filter((name) => !names.includes(name));
  if (own.length === 0) return EMPTY;
  return encodePiece((w) => {
    for (const name of own) writeLabelPair(w, KEY.metric.label, name, defaults[name] as string);
  });
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
