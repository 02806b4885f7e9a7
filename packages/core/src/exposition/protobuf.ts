/**
 * The Prometheus protobuf exposition (`io.prometheus.client.MetricFamily`, delimited): what
 * Prometheus asks for first when native histograms are enabled, and the only format that
 * carries them. The body is a stream of `MetricFamily` messages, each preceded by its length
 * as a varint. Message and field numbers are those of client_model's `metrics.proto` (a copy
 * is in packages/core/test/proto, from which the tests generate the decoder they check this
 * encoder with).
 *
 * This module writes the parts of the messages that do not depend on where the numbers come
 * from: label pairs, exemplars and a native histogram's buckets. render-protobuf.ts walks the
 * collected families.
 *
 * Choices, as client_golang makes them:
 * - counts (`uint64`) are written as integers; a count that is not a non-negative safe integer
 *   (never the case for counts the metrics made) goes to the `*_float` field instead;
 * - a classic histogram's `+Inf` bucket is implied by `sample_count` and only written when it
 *   carries an exemplar;
 * - native buckets are written as spans and count deltas; gaps of one or two empty buckets are
 *   filled with zeros (cheaper than a new span);
 * - a native histogram with no populated bucket gets one empty positive span, so that it cannot
 *   be mistaken for a classic histogram.
 */

import type { NativeHistogramSnapshot } from '../native-histogram.js';
import type { Exemplar } from '../types.js';
import { EXEMPLAR_MAX_LABEL_CHARS, exemplarLabelChars } from './openmetrics.js';
import { fieldKey, type ProtoWriter, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './proto-writer.js';

/** Content type of the delimited protobuf exposition (as client_golang serves it). */
export const PROTOBUF_CONTENT_TYPE =
  'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/** `MetricType` enum values. */
export const METRIC_TYPE = Object.freeze({
  counter: 0,
  gauge: 1,
  summary: 2,
  histogram: 4,
});

/** Field keys (number and wire type) of the messages written, by message. */
export const KEY = Object.freeze({
  family: Object.freeze({
    name: fieldKey(1, WIRE_LEN),
    help: fieldKey(2, WIRE_LEN),
    type: fieldKey(3, WIRE_VARINT),
    metric: fieldKey(4, WIRE_LEN),
  }),
  metric: Object.freeze({
    label: fieldKey(1, WIRE_LEN),
    gauge: fieldKey(2, WIRE_LEN),
    counter: fieldKey(3, WIRE_LEN),
    summary: fieldKey(4, WIRE_LEN),
    histogram: fieldKey(7, WIRE_LEN),
  }),
  labelPair: Object.freeze({ name: fieldKey(1, WIRE_LEN), value: fieldKey(2, WIRE_LEN) }),
  /** `Gauge.value`, `Counter.value`, `Quantile.quantile`: field 1, double. */
  value1: fieldKey(1, WIRE_FIXED64),
  counter: Object.freeze({ exemplar: fieldKey(2, WIRE_LEN) }),
  summary: Object.freeze({
    sampleCount: fieldKey(1, WIRE_VARINT),
    sampleSum: fieldKey(2, WIRE_FIXED64),
    quantile: fieldKey(3, WIRE_LEN),
  }),
  /** `Quantile.value`: field 2, double. */
  value2: fieldKey(2, WIRE_FIXED64),
  histogram: Object.freeze({
    sampleCount: fieldKey(1, WIRE_VARINT),
    sampleSum: fieldKey(2, WIRE_FIXED64),
    bucket: fieldKey(3, WIRE_LEN),
    sampleCountFloat: fieldKey(4, WIRE_FIXED64),
    schema: fieldKey(5, WIRE_VARINT),
    zeroThreshold: fieldKey(6, WIRE_FIXED64),
    zeroCount: fieldKey(7, WIRE_VARINT),
    zeroCountFloat: fieldKey(8, WIRE_FIXED64),
    negativeSpan: fieldKey(9, WIRE_LEN),
    negativeDelta: fieldKey(10, WIRE_VARINT),
    positiveSpan: fieldKey(12, WIRE_LEN),
    positiveDelta: fieldKey(13, WIRE_VARINT),
  }),
  bucket: Object.freeze({
    cumulativeCount: fieldKey(1, WIRE_VARINT),
    upperBound: fieldKey(2, WIRE_FIXED64),
    exemplar: fieldKey(3, WIRE_LEN),
    cumulativeCountFloat: fieldKey(4, WIRE_FIXED64),
  }),
  span: Object.freeze({ offset: fieldKey(1, WIRE_VARINT), length: fieldKey(2, WIRE_VARINT) }),
  exemplar: Object.freeze({
    label: fieldKey(1, WIRE_LEN),
    value: fieldKey(2, WIRE_FIXED64),
    timestamp: fieldKey(3, WIRE_LEN),
  }),
  timestamp: Object.freeze({
    seconds: fieldKey(1, WIRE_VARINT),
    nanos: fieldKey(2, WIRE_VARINT),
  }),
});

/** Writes one `LabelPair` as a field with key `key` (`Metric.label`, `Exemplar.label`). */
export function writeLabelPair(out: ProtoWriter, key: number, name: string, value: string): void {
  const start = out.begin(key);
  out.string(KEY.labelPair.name, name);
  out.string(KEY.labelPair.value, value);
  out.end(start);
}

/**
 * Writes a count: as the `uint64` field `intKey` when it is a non-negative safe integer, else as
 * the double field `floatKey` (a `*_float` field, which overrides the integer one).
 */
export function writeCount(
  out: ProtoWriter,
  intKey: number,
  floatKey: number,
  count: number,
): void {
  if (Number.isSafeInteger(count) && count >= 0) {
    out.byte(intKey);
    out.varint(count);
  } else {
    out.byte(floatKey);
    out.double(count);
  }
}

/**
 * Writes an exemplar as the field `key`, or nothing when its labels exceed what OpenMetrics
 * allows (the OpenMetrics renderer drops it too, so both formats show the same exemplars).
 */
export function writeExemplar(out: ProtoWriter, key: number, exemplar: Exemplar): void {
  if (exemplarLabelChars(exemplar.labels) > EXEMPLAR_MAX_LABEL_CHARS) return;
  const start = out.begin(key);
  for (const name in exemplar.labels) {
    if (!Object.hasOwn(exemplar.labels, name)) continue;
    writeLabelPair(out, KEY.exemplar.label, name, exemplar.labels[name] as string);
  }
  out.byte(KEY.exemplar.value);
  out.double(exemplar.value);
  const ts = exemplar.timestamp;
  if (ts !== undefined && Number.isFinite(ts)) {
    // google.protobuf.Timestamp: whole seconds and the nanoseconds after them (0 <= nanos < 1e9).
    let seconds = Math.floor(ts);
    let nanos = Math.round((ts - seconds) * 1e9);
    if (nanos >= 1e9) {
      seconds += 1;
      nanos -= 1e9;
    }
    const t = out.begin(KEY.exemplar.timestamp);
    out.byte(KEY.timestamp.seconds);
    // Exemplars are stamped with the current time; a time before 1970 is written as 1970.
    out.varint(Math.max(0, seconds));
    if (nanos > 0) {
      out.byte(KEY.timestamp.nanos);
      out.varint(nanos);
    }
    out.end(t);
  }
  out.end(start);
}

/** Spans and deltas of one side (positive or negative) of a native histogram. */
export interface NativeBuckets {
  /** `[offset, length]` per span: the first offset is the first index, later ones the gap. */
  readonly spans: Array<[offset: number, length: number]>;
  /** Count of each bucket the spans cover, as the difference to the previous one. */
  readonly deltas: number[];
}

/** Largest gap of empty buckets filled with zero deltas rather than starting a new span. */
const MAX_FILLED_GAP = 2;

/**
 * The spans and deltas of populated buckets given in ascending index order (see the module
 * comment for how gaps are treated).
 */
export function nativeBuckets(
  buckets: ReadonlyArray<readonly [index: number, count: number]>,
): NativeBuckets {
  const spans: Array<[number, number]> = [];
  const deltas: number[] = [];
  let previousCount = 0;
  let nextIndex = 0;
  let span: [number, number] | undefined;
  for (const [index, count] of buckets) {
    const gap = index - nextIndex;
    if (span === undefined || gap > MAX_FILLED_GAP) {
      span = [span === undefined ? index : gap, 0];
      spans.push(span);
    } else {
      for (let i = 0; i < gap; i++) {
        deltas.push(previousCount === 0 ? 0 : -previousCount);
        previousCount = 0;
        span[1]++;
      }
    }
    deltas.push(count - previousCount);
    previousCount = count;
    span[1]++;
    nextIndex = index + 1;
  }
  return { spans, deltas };
}

/** Writes the native fields of a `Histogram` message (count and sum are the caller's). */
export function writeNativeHistogram(out: ProtoWriter, native: NativeHistogramSnapshot): void {
  const h = KEY.histogram;
  out.byte(h.schema);
  out.sint(native.schema);
  out.byte(h.zeroThreshold);
  out.double(native.zeroThreshold);
  writeCount(out, h.zeroCount, h.zeroCountFloat, native.zeroCount);
  const negative = nativeBuckets(native.negative);
  const positive = nativeBuckets(native.positive);
  writeSide(out, h.negativeSpan, h.negativeDelta, negative);
  if (negative.spans.length === 0 && positive.spans.length === 0) {
    // The no-op span that marks a histogram as native (see the module comment).
    positive.spans.push([0, 0]);
  }
  writeSide(out, h.positiveSpan, h.positiveDelta, positive);
}

function writeSide(out: ProtoWriter, spanKey: number, deltaKey: number, side: NativeBuckets): void {
  for (const [offset, length] of side.spans) {
    const start = out.begin(spanKey);
    out.byte(KEY.span.offset);
    out.sint(offset);
    out.byte(KEY.span.length);
    out.varint(length);
    out.end(start);
  }
  // Unpacked, as client_golang writes them (proto2 default); decoders accept both forms.
  for (const delta of side.deltas) {
    out.byte(deltaKey);
    out.sint(delta);
  }
}
