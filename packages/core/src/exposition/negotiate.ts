/**
 * Choice of exposition format from an HTTP `Accept` header.
 *
 * Rule: the delimited protobuf format is served when the header names
 * `application/vnd.google.protobuf` with `proto=io.prometheus.client.MetricFamily` and
 * `encoding=delimited` with a quality at least as high as each text format's (Prometheus lists
 * it first when native histograms are enabled). Otherwise OpenMetrics is served when the header
 * names `application/openmetrics-text` (version 1.0.0, 0.0.1 or none: the versions Prometheus
 * asks for) with a quality at least as high as the Prometheus text format's; otherwise the
 * Prometheus text format 0.0.4 is served, also when nothing in the header is acceptable (a
 * scraper always gets something it can read; Prometheus and client_golang behave the same
 * way). Wildcards (`*\/*`, `application/*`) make the text format acceptable but never select
 * OpenMetrics or protobuf, so `curl` and browsers get the familiar format.
 *
 * Precedence follows RFC 9110: for each format, the most specific matching media range gives its
 * quality (`text/plain;version=0.0.4` over `text/plain` over `text/*` over `*\/*`).
 */

import type { MetricObject } from '../types.js';
import { formatOpenMetrics, OPENMETRICS_CONTENT_TYPE } from './openmetrics.js';
import { PROTOBUF_CONTENT_TYPE } from './protobuf.js';
import { formatText, PROMETHEUS_CONTENT_TYPE } from './text.js';

/** A format an exposition can be served in: what `Registry.scrape` renders. */
export interface ExpositionFormat {
  readonly name: 'prometheus' | 'openmetrics' | 'protobuf';
  readonly contentType: string;
}

/** A text format, which can also render prom-client's MetricObject shape. */
export interface TextExpositionFormat extends ExpositionFormat {
  readonly name: 'prometheus' | 'openmetrics';
  render(metrics: readonly MetricObject[]): string;
}

/** The Prometheus text format 0.0.4. */
export const PROMETHEUS_FORMAT: TextExpositionFormat = Object.freeze({
  name: 'prometheus',
  contentType: PROMETHEUS_CONTENT_TYPE,
  render: formatText,
});

/** OpenMetrics 1.0.0. */
export const OPENMETRICS_FORMAT: TextExpositionFormat = Object.freeze({
  name: 'openmetrics',
  contentType: OPENMETRICS_CONTENT_TYPE,
  render: formatOpenMetrics,
});

/**
 * The delimited protobuf format (`io.prometheus.client.MetricFamily`), rendered from collected
 * families only (render-protobuf.ts): it is the one format that carries native histograms,
 * which prom-client's MetricObject shape cannot hold.
 */
export const PROTOBUF_FORMAT: ExpositionFormat = Object.freeze({
  name: 'protobuf',
  contentType: PROTOBUF_CONTENT_TYPE,
});

const PROTOBUF_MESSAGE = 'io.prometheus.client.metricfamily';

/** One parsed media range of an Accept header. */
interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  /** Parameters other than `q`, names lower-cased. */
  readonly params: ReadonlyMap<string, string>;
  readonly q: number;
}

const OPENMETRICS_VERSIONS = new Set(['1.0.0', '0.0.1']);

/** Chooses the format for an HTTP `Accept` header (Prometheus text when absent or unknown). */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || accept.trim() === '') return PROMETHEUS_FORMAT;
  const ranges = parseAccept(accept);
  const protobuf = quality(ranges, (r) => {
    if (r.type !== 'application' || r.subtype !== 'vnd.google.protobuf') return -1;
    // Only the delimited encoding of MetricFamily is served (not `text` / `compact-text`).
    if (r.params.get('proto')?.toLowerCase() !== PROTOBUF_MESSAGE) return -1;
    return r.params.get('encoding')?.toLowerCase() === 'delimited' ? 3 : -1;
  });
  const openMetrics = quality(ranges, (r) => {
    if (r.type !== 'application' || r.subtype !== 'openmetrics-text') return -1;
    const version = r.params.get('version');
    if (version === undefined) return 2;
    return OPENMETRICS_VERSIONS.has(version) ? 3 : -1;
  });
  const text = quality(ranges, (r) => {
    if (r.type === '*' && r.subtype === '*') return 0;
    if (r.type !== 'text') return -1;
    if (r.subtype === '*') return 1;
    if (r.subtype !== 'plain') return -1;
    const version = r.params.get('version');
    if (version === undefined) return 2;
    return version === '0.0.4' ? 3 : -1;
  });
  if (protobuf > 0 && protobuf >= openMetrics && protobuf >= text) return PROTOBUF_FORMAT;
  return openMetrics > 0 && openMetrics >= text ? OPENMETRICS_FORMAT : PROMETHEUS_FORMAT;
}

/**
 * Quality of the most specific range that `specificity` accepts (it returns -1 for ranges that
 * do not match and a higher number for more specific ones); 0 when none matches. Among equally
 * specific matches the highest quality counts.
 */
function quality(ranges: readonly MediaRange[], specificity: (r: MediaRange) => number): number {
  let best = -1;
  let q = 0;
  for (const range of ranges) {
    const s = specificity(range);
    if (s < 0) continue;
    if (s > best) {
      best = s;
      q = range.q;
    } else if (s === best && range.q > q) {
      q = range.q;
    }
  }
  return q;
}

/**
 * Parses an Accept header leniently: malformed ranges and ranges with a malformed `q` are
 * ignored rather than failing the request. Quoted parameter values may contain commas and
 * semicolons.
 */
function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of splitOutsideQuotes(header, ',')) {
    const [mediaType, ...rawParams] = splitOutsideQuotes(part, ';');
    const slash = (mediaType ?? '').indexOf('/');
    if (mediaType === undefined || slash <= 0) continue;
    const type = mediaType.slice(0, slash).trim().toLowerCase();
    const subtype = mediaType
      .slice(slash + 1)
      .trim()
      .toLowerCase();
    if (type === '' || subtype === '') continue;
    const params = new Map<string, string>();
    let q = 1;
    let valid = true;
    for (const raw of rawParams) {
      const eq = raw.indexOf('=');
      if (eq <= 0) continue;
      const name = raw.slice(0, eq).trim().toLowerCase();
      let value = raw.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
        value = value.slice(1, -1).replace(/\\(.)/g, '$1');
      }
      if (name === 'q') {
        if (!/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(value)) {
          valid = false;
          break;
        }
        q = Number(value);
      } else {
        params.set(name, value);
      }
    }
    if (valid) ranges.push({ type, subtype, params, q });
  }
  return ranges;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === '\\' && quoted) i++;
    else if (ch === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
