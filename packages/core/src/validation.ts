/**
 * Name, label and value rules of the Prometheus data model, in two forms: boolean checks that
 * match prom-client's (`validateMetricName`, `validateLabelName`) and throwing asserts that
 * metric constructors and hot paths use. Every assert throws a typed error from errors.ts whose
 * message names the bad value and what was expected.
 */
import {
  describeValue,
  type ErrorCode,
  InvalidOptionError,
  InvalidValueError,
  LabelSetError,
} from './errors.js';
import type { GaugeMode, MetricType } from './types.js';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Most label names one metric may declare. Every name is repeated on every line of every
 * series, so this bounds what a metric (or a hand-made store file) can make a scrape render;
 * FORMAT.md's "Limits" table lists it with the other bounds.
 */
export const MAX_LABEL_NAMES = 64;

/**
 * Most bytes the label values of one series may take, measured as their JSON array in UTF-8
 * (the series key of the file store, FORMAT.md). Far beyond any useful label value; it bounds
 * what one series can cost a scrape.
 */
export const MAX_SERIES_KEY_BYTES = 64 * 1024;

/** Most percentiles a summary may report (each is a line of every series at every scrape). */
export const MAX_PERCENTILES = 100;

/** Label names each metric type reserves for itself or for the store. */
const RESERVED_LABELS: Readonly<Record<MetricType, readonly string[]>> = {
  counter: [],
  // The file store adds `pid` to `all`/`liveall` gauges in multi-process mode.
  gauge: ['pid'],
  histogram: ['le'],
  summary: ['quantile'],
};

/**
 * Reserved on gauges that keep one series per writer (`all`, `liveall`) in addition to `pid`:
 * the file store labels the series a worker thread wrote with its `thread` id.
 */
const PER_WRITER_LABELS: readonly string[] = ['thread'];

/** True when `name` is a valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`). Same as prom-client. */
export function validateMetricName(name: unknown): boolean {
  return typeof name === 'string' && METRIC_NAME.test(name);
}

/**
 * True when every given label name matches `[a-zA-Z_][a-zA-Z0-9_]*` (prom-client's check; takes
 * one name or an array). Names starting with `__` pass here, as in prom-client, but metrics
 * reject them because Prometheus reserves them.
 */
export function validateLabelName(names: string | readonly string[] = []): boolean {
  const list = typeof names === 'string' ? [names] : names;
  return list.every((name) => typeof name === 'string' && LABEL_NAME.test(name));
}

/** Throws PROMFORK_INVALID_METRIC_NAME unless `name` is a valid metric name. */
export function assertMetricName(name: unknown): asserts name is string {
  if (!validateMetricName(name)) {
    throw new LabelSetError(
      'PROMFORK_INVALID_METRIC_NAME',
      `Invalid metric name ${describeValue(name)}: expected a string matching [a-zA-Z_:][a-zA-Z0-9_:]*`,
    );
  }
}

/** Throws PROMFORK_INVALID_LABEL_NAME unless `name` is a usable label name. */
export function assertLabelName(name: unknown, metric: string): asserts name is string {
  if (typeof name !== 'string' || !LABEL_NAME.test(name) || name.startsWith('__')) {
    throw new LabelSetError(
      'PROMFORK_INVALID_LABEL_NAME',
      `Invalid label name ${describeValue(name)} for metric "${metric}": expected a string ` +
        'matching [a-zA-Z_][a-zA-Z0-9_]* that does not start with "__"',
    );
  }
}

/**
 * Checks a metric's declared label names: each valid, none reserved for `type` (and for a
 * gauge's `mode`), no duplicates. Returns a frozen copy.
 */
export function assertLabelNames(
  names: unknown,
  metric: string,
  type: MetricType,
  mode?: GaugeMode,
): readonly string[] {
  if (!Array.isArray(names)) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `Invalid labelNames ${describeValue(names)} for metric "${metric}": expected an array of strings`,
    );
  }
  if (names.length > MAX_LABEL_NAMES) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `Metric "${metric}" declares ${names.length} label names: expected at most ${MAX_LABEL_NAMES}`,
    );
  }
  const perWriter = type === 'gauge' && (mode === 'all' || mode === 'liveall');
  const reserved = perWriter
    ? [...RESERVED_LABELS[type], ...PER_WRITER_LABELS]
    : RESERVED_LABELS[type];
  const seen = new Set<string>();
  for (const name of names as unknown[]) {
    assertLabelName(name, metric);
    if (reserved.includes(name)) {
      const where = perWriter
        ? `${type} metrics with multiprocessMode "${mode}"`
        : `${type} metrics`;
      throw new LabelSetError(
        'PROMFORK_RESERVED_LABEL',
        `Label name ${describeValue(name)} is reserved on ${where} (metric "${metric}"): ` +
          `choose another name; reserved here: ${reserved.join(', ')}`,
      );
    }
    if (seen.has(name)) {
      throw new LabelSetError(
        'PROMFORK_DUPLICATE_LABEL_NAME',
        `Label name ${describeValue(name)} is declared twice for metric "${metric}"`,
      );
    }
    seen.add(name);
  }
  return Object.freeze([...seen]);
}

/**
 * Converts one label value to the string that identifies the series: strings as they are,
 * finite numbers via String(). Throws PROMFORK_INVALID_LABEL_VALUE for anything else.
 */
export function labelValueString(value: unknown, label: string, metric: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new LabelSetError(
    'PROMFORK_INVALID_LABEL_VALUE',
    `Invalid value ${describeValue(value)} for label "${label}" of metric "${metric}": ` +
      'expected a string or a finite number',
  );
}

/**
 * A lone UTF-16 surrogate: not a Unicode character. With the `u` flag a proper surrogate pair
 * is one code point and does not match, so this finds only unpaired halves.
 */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * True when `text` can be sent as UTF-8 unchanged. A string holding a lone surrogate cannot:
 * encoding replaces it with U+FFFD, so Prometheus would receive another value than the one
 * recorded (and two recorded values could arrive as one series).
 */
export function isUnicodeText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/**
 * Throws PROMFORK_INVALID_LABEL_VALUE when a label value holds a lone surrogate. Run once per
 * new series (child creation), never on the cached-child path.
 */
export function assertUnicodeLabelValues(
  values: readonly string[],
  names: readonly string[],
  metric: string,
): void {
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as string;
    if (isUnicodeText(value)) continue;
    throw new LabelSetError(
      'PROMFORK_INVALID_LABEL_VALUE',
      `Invalid value ${describeValue(value)} for label "${names[i]}" of metric "${metric}": ` +
        'expected Unicode text (it holds a lone UTF-16 surrogate, which UTF-8 cannot carry)',
    );
  }
}

/**
 * Throws PROMFORK_INVALID_LABEL_VALUE when the label values of one series take more than
 * {@link MAX_SERIES_KEY_BYTES} as a JSON array. Run once per new series, like
 * {@link assertUnicodeLabelValues}.
 */
export function assertSeriesKeySize(values: readonly string[], metric: string): void {
  // A UTF-16 unit takes at most 6 bytes in the JSON text (`\u001f`), plus 3 per value for
  // quotes and comma: short values, the usual case, need no encoding to pass.
  let units = 2;
  for (const value of values) units += value.length + 3;
  if (units * 6 <= MAX_SERIES_KEY_BYTES) return;
  const bytes = Buffer.byteLength(JSON.stringify(values), 'utf8');
  if (bytes <= MAX_SERIES_KEY_BYTES) return;
  throw new LabelSetError(
    'PROMFORK_INVALID_LABEL_VALUE',
    `The label values of one series of metric "${metric}" take ${bytes} bytes as a JSON array: ` +
      `expected at most ${MAX_SERIES_KEY_BYTES}`,
  );
}

/** Throws PROMFORK_INVALID_VALUE unless `value` is a finite number. */
export function assertFinite(
  value: unknown,
  what: string,
  metric: string,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidValueError(
      'PROMFORK_INVALID_VALUE',
      `Invalid ${what} ${describeValue(value)} for metric "${metric}": expected a finite number`,
    );
  }
}

/** Checks a counter increment: finite (PROMFORK_INVALID_VALUE) and >= 0 (PROMFORK_NEGATIVE_INCREMENT). */
export function assertIncrement(value: unknown, metric: string): asserts value is number {
  assertFinite(value, 'increment', metric);
  if (value < 0) {
    throw new InvalidValueError(
      'PROMFORK_NEGATIVE_INCREMENT',
      `Invalid increment ${describeValue(value)} for counter "${metric}": counters only go up, ` +
        'expected a finite number >= 0',
    );
  }
}

/**
 * Rejects option keys outside `allowed` (PROMFORK_UNKNOWN_OPTION) and a non-object options
 * argument (PROMFORK_INVALID_OPTION). `where` names the function for the message.
 */
export function assertOptionKeys(
  options: unknown,
  allowed: readonly string[],
  where: string,
): asserts options is Record<string, unknown> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `${where} expected an options object, got ${describeValue(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new InvalidOptionError(
        'PROMFORK_UNKNOWN_OPTION',
        `${where} got unknown option ${describeValue(key)}; accepted options: ${allowed.join(', ') || 'none'}`,
      );
    }
  }
}

/** Throws an InvalidOptionError with `code` naming option `key`, its value and what was expected. */
export function invalidOption(
  where: string,
  key: string,
  value: unknown,
  expected: string,
  code: ErrorCode = 'PROMFORK_INVALID_OPTION',
): never {
  throw new InvalidOptionError(
    code,
    `${where}: invalid option "${key}" ${describeValue(value)}: expected ${expected}`,
  );
}
