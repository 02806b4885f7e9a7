/**
 * Options of the HTTP instrumentation, shared by every adapter: one interface, one defaults
 * object, one validator. Adapters pass their own request and response types as `Req`/`Res`
 * so hooks are typed for the framework (Express `req`/`res`, Koa `ctx`/`ctx`, Fastify
 * `request`/`reply`).
 *
 * Contract: options are checked once, when the middleware or plugin is created. An unknown key
 * throws PROMFORK_UNKNOWN_OPTION, a wrong type PROMFORK_INVALID_OPTION; nothing is silently
 * replaced by a default. A key whose value is `undefined` counts as absent.
 */
import type { DefaultMetricsOptions } from '../default-metrics.js';
import { InvalidOptionError } from '../errors.js';
import { type NativeHistogramOptions, resolveNativeOption } from '../native-histogram.js';
import { Registry, register } from '../registry.js';
import type { LabelValue } from '../types.js';
import {
  assertLabelName,
  assertOptionKeys,
  invalidOption,
  validateLabelName,
  validateMetricName,
} from '../validation.js';
import {
  CONVENTIONS,
  HTTP_CONVENTIONS,
  type HttpConvention,
  type HttpConventions,
  type HttpLabelNames,
  type HttpMetricNames,
  OTEL_EXTRA_LABELS,
} from './conventions.js';

/** How request latency is recorded (`latency` option). */
export type LatencyMetric = 'histogram' | 'summary' | 'both';

/** Options of the latency summary (`latency: 'summary'` or `'both'`), passed to `Summary`. */
export interface HttpSummaryOptions {
  /**
   * Quantiles to report.
   * @default [0.5, 0.9, 0.95, 0.99]
   */
  readonly percentiles?: readonly number[];
  /**
   * Width of the sliding window in seconds; 0 means since start.
   * @default 600
   */
  readonly maxAgeSeconds?: number;
  /**
   * Number of sub-windows the window rotates through.
   * @default 5
   */
  readonly ageBuckets?: number;
}

/** The default metrics' options as the adapters take them: the adapter's registry is used. */
export type HttpDefaultMetricsOptions = Omit<DefaultMetricsOptions, 'register'>;

/** Options of the metrics route alone (`metricsHandler()`), also part of {@link HttpMetricsOptions}. */
export interface MetricsRouteOptions<Req = unknown> {
  /**
   * Registry whose metrics are served and in which the HTTP metrics are created.
   * @default register (the default registry)
   */
  readonly registry?: Registry;
  /**
   * Decides whether a request may read the metrics; `false` (or a rejected promise) answers
   * 403. Runs before any metric is collected.
   * @default every request is allowed
   */
  readonly authorize?: (req: Req) => boolean | Promise<boolean>;
  /**
   * Receives every error the instrumentation swallowed so the request could go on (a throwing
   * hook, a failed scrape). Never called with the request's own errors.
   * @default writes one line to stderr per distinct message (at most 100 distinct messages)
   */
  readonly onError?: (error: Error) => void;
}

/** Options of the HTTP metrics middleware or plugin, the same in every adapter. */
export interface HttpMetricsOptions<Req = unknown, Res = unknown> extends MetricsRouteOptions<Req> {
  /**
   * Path at which the middleware answers `GET`/`HEAD` with the metrics; `false` serves none
   * (mount `metricsHandler()` elsewhere). Compared with the request path exactly, query string
   * ignored. Requests to it are not recorded.
   * @default '/metrics'
   */
  readonly metricsPath?: string | false;
  /**
   * Naming preset: which metrics exist by default and their metric and label names.
   * `'opentelemetry'` follows the OpenTelemetry HTTP server semantic conventions as
   * Prometheus sees them; `'express-prom-bundle'` keeps that middleware's names, so its
   * dashboards keep working. Explicit options below still win over the preset.
   * @default 'promfork'
   */
  readonly conventions?: HttpConventions;
  /**
   * The process and runtime metrics of `collectDefaultMetrics` in the same registry: `true`,
   * `false`, or that function's options (without `register`). Registered once per registry:
   * a second middleware or plugin on the same registry (or an earlier call of your own)
   * finds them there and registers nothing.
   * @default true
   */
  readonly defaultMetrics?: boolean | HttpDefaultMetricsOptions;
  /**
   * Prepended to the name of every HTTP metric (not to the default metrics, which take their
   * own `prefix` in `defaultMetrics`). Not called `prefix`: Fastify's `register` reserves that
   * key for the route prefix.
   * @default ''
   */
  readonly metricPrefix?: string;
  /**
   * Metric names, before `metricPrefix`; any name left out keeps the preset's.
   * @default the preset's names (`http_requests_total`, `http_request_duration_seconds`, ...)
   */
  readonly metricNames?: HttpMetricNames;
  /**
   * Names of the method, route and status labels; any left out keeps the preset's.
   * @default the preset's (`method`, `route`, `status_code`)
   */
  readonly labelNames?: HttpLabelNames;
  /**
   * Adds the gauge `up`: 1 while the server serves; `setServing(false)` sets it to 0 during a
   * graceful shutdown. Summed as the maximum over live processes.
   * @default false (true with the 'express-prom-bundle' preset)
   */
  readonly up?: boolean;
  /**
   * How request latency is recorded: a histogram, a summary (quantiles from a mergeable
   * sketch, correct across processes within 1% relative error), or both.
   * @default 'histogram'
   */
  readonly latency?: LatencyMetric;
  /**
   * Options of the latency summary.
   * @default { percentiles: [0.5, 0.9, 0.95, 0.99], maxAgeSeconds: 600, ageBuckets: 5 }
   */
  readonly summary?: HttpSummaryOptions;
  /**
   * Upper bounds of the request duration histogram, in seconds.
   * @default the preset's: Prometheus' default buckets [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
   */
  readonly buckets?: readonly number[];
  /**
   * Also keep `http_request_duration_seconds` as a native histogram (the Histogram option of
   * that name: `true` or `{ bucketFactor, maxBuckets, zeroThreshold, minResetDuration }`), next
   * to the classic `buckets`. Native buckets reach Prometheus in the protobuf exposition.
   * @default false
   */
  readonly nativeHistogram?: boolean | NativeHistogramOptions;
  /**
   * Report `status_code` as its class (`2xx`, `4xx`) instead of the exact code.
   * @default false
   */
  readonly groupStatusCodes?: boolean;
  /**
   * Route templates (after `normalizeRoute`) whose requests are not recorded: a string matches
   * the template exactly, a RegExp is tested against it. `'#unmatched'` excludes unmatched
   * requests. Decided once per template, not per request.
   * @default []
   */
  readonly excludeRoutes?: readonly (string | RegExp)[];
  /**
   * Called when a request starts; `true` leaves the request unrecorded (no timing, no
   * in-flight count). A throw counts as `false` and is reported to `onError`.
   * @default no request is skipped
   */
  readonly skip?: (req: Req) => boolean;
  /**
   * Extra labels on the request counter, duration and size histograms: label name to a
   * function computing its value when the response ends. A throw or a value that is not a
   * string or finite number gives `""` and is reported to `onError`. Keep the set of values
   * small: every distinct value is a new series.
   * @default {}
   */
  readonly extraLabels?: Readonly<Record<string, (req: Req, res: Res) => LabelValue>>;
  /**
   * Exemplar labels of a request (a trace id, say: `{ trace_id }`), computed when the response
   * ends; `undefined` records none for that request. Turns exemplars on for the request counter
   * and the duration histogram (each keeps the latest per series and per bucket, merged across
   * processes by the FileStore); they reach Prometheus in OpenMetrics and protobuf scrapes. A
   * throw or labels an exemplar cannot carry (names and values over 128 characters together)
   * are reported to `onError`; the request is still counted, without an exemplar.
   * @default no exemplars
   */
  readonly exemplarLabels?: (
    req: Req,
    res: Res,
  ) => Readonly<Record<string, LabelValue>> | undefined;
  /**
   * Rewrites a route template before it becomes the `route` label (e.g. to merge versions:
   * `(r) => r.replace(/^\/v\d+/, '/v*')`). Called once per distinct template and cached, so it
   * must be a pure function of its argument. A throw keeps the template and is reported.
   * @default the template unchanged
   */
  readonly normalizeRoute?: (route: string) => string;
  /**
   * Adds the gauge `http_requests_in_flight` (requests started and not yet finished; summed
   * over live processes in multi-process mode).
   * @default false (true with the 'opentelemetry' preset)
   */
  readonly inFlight?: boolean;
  /**
   * Adds the histogram `http_request_size_bytes`, observed from the `Content-Length` request
   * header when present.
   * @default false
   */
  readonly requestSize?: boolean;
  /**
   * Adds the histogram `http_response_size_bytes`, observed from the `Content-Length` response
   * header when present.
   * @default false
   */
  readonly responseSize?: boolean;
  /**
   * Upper bounds of the size histograms, in bytes.
   * @default [100, 1000, 10000, 100000, 1000000, 10000000]
   */
  readonly sizeBuckets?: readonly number[];
  /**
   * Most label sets (method, route, status, extra labels) each HTTP metric keeps per process.
   * Beyond it a request with a new combination is not recorded: it is counted in
   * `promfork_series_dropped_total{metric=...}` and the first drop is reported to `onError`.
   * Mostly useful with `extraLabels` whose values a client can influence.
   * @default unlimited
   */
  readonly maxSeries?: number;
}

/** Options after validation, with every default applied. */
export interface ResolvedHttpMetricsOptions<Req = unknown, Res = unknown> {
  readonly registry: Registry;
  readonly authorize: ((req: Req) => boolean | Promise<boolean>) | undefined;
  readonly onError: (error: Error) => void;
  readonly metricsPath: string | false;
  readonly buckets: readonly number[];
  /** The `nativeHistogram` option as given (checked); false when off. */
  readonly nativeHistogram: boolean | NativeHistogramOptions;
  readonly groupStatusCodes: boolean;
  readonly excludeRoutes: readonly (string | RegExp)[];
  readonly skip: ((req: Req) => boolean) | undefined;
  readonly extraLabels: ReadonlyArray<readonly [string, (req: Req, res: Res) => LabelValue]>;
  readonly exemplarLabels:
    | ((req: Req, res: Res) => Readonly<Record<string, LabelValue>> | undefined)
    | undefined;
  readonly normalizeRoute: ((route: string) => string) | undefined;
  readonly inFlight: boolean;
  readonly requestSize: boolean;
  readonly responseSize: boolean;
  readonly sizeBuckets: readonly number[];
  /** Undefined when unlimited. */
  readonly maxSeries: number | undefined;
  readonly conventions: HttpConventions;
  /** The preset, for its label value rules. */
  readonly convention: HttpConvention;
  /** False, or the options to call `collectDefaultMetrics` with (registry not yet set). */
  readonly defaultMetrics: false | HttpDefaultMetricsOptions;
  /** Final metric names, prefix included; `false` where the metric is left out. */
  readonly metricNames: {
    readonly [K in keyof HttpMetricNames]-?: K extends 'requestsTotal' ? string | false : string;
  };
  /** Every label name of the request metrics, in order: method, route, status, the preset's, extra. */
  readonly labelNames: readonly string[];
  readonly up: boolean;
  readonly latency: LatencyMetric;
  readonly summary: Required<HttpSummaryOptions>;
}

/** The option defaults, in one place (buckets, `inFlight` and `up` come from the preset). */
export const HTTP_METRICS_DEFAULTS = Object.freeze({
  metricsPath: '/metrics',
  conventions: 'promfork' as HttpConventions,
  defaultMetrics: true,
  metricPrefix: '',
  latency: 'histogram' as LatencyMetric,
  summary: Object.freeze({
    percentiles: Object.freeze([0.5, 0.9, 0.95, 0.99]) as readonly number[],
    maxAgeSeconds: 600,
    ageBuckets: 5,
  }),
  groupStatusCodes: false,
  excludeRoutes: Object.freeze([]) as readonly (string | RegExp)[],
  requestSize: false,
  responseSize: false,
  sizeBuckets: Object.freeze([100, 1000, 10000, 100000, 1000000, 10000000]) as readonly number[],
});

const ROUTE_KEYS = ['registry', 'authorize', 'onError'] as const;
const HTTP_KEYS = [
  ...ROUTE_KEYS,
  'metricsPath',
  'buckets',
  'nativeHistogram',
  'groupStatusCodes',
  'excludeRoutes',
  'skip',
  'extraLabels',
  'exemplarLabels',
  'normalizeRoute',
  'inFlight',
  'requestSize',
  'responseSize',
  'sizeBuckets',
  'maxSeries',
  'conventions',
  'defaultMetrics',
  'metricPrefix',
  'metricNames',
  'labelNames',
  'up',
  'latency',
  'summary',
] as const;

const METRIC_NAME_KEYS: readonly (keyof HttpMetricNames)[] = [
  'requestsTotal',
  'requestDuration',
  'requestDurationSummary',
  'requestsInFlight',
  'requestSize',
  'responseSize',
  'up',
];
const LABEL_NAME_KEYS: readonly (keyof HttpLabelNames)[] = ['method', 'route', 'statusCode'];
const SUMMARY_KEYS: readonly (keyof HttpSummaryOptions)[] = [
  'percentiles',
  'maxAgeSeconds',
  'ageBuckets',
];
const DEFAULT_METRICS_KEYS: readonly string[] = [
  'prefix',
  'labels',
  'gcDurationBuckets',
  'eventLoopMonitoringPrecision',
  'refreshIntervalSeconds',
];
const LATENCIES: readonly LatencyMetric[] = ['histogram', 'summary', 'both'];
/** Label names a histogram, a summary or the file store reserve. */
const RESERVED_LABELS: readonly string[] = ['le', 'quantile', 'pid', 'thread'];

/**
 * The default `onError`: one stderr line per distinct message, so a hook that throws on every
 * request does not flood the log. The set is per instrumentation, not module-global.
 */
function stderrReporter(where: string): (error: Error) => void {
  const seen = new Set<string>();
  return (error) => {
    const message = error instanceof Error ? error.message : String(error);
    if (seen.has(message) || seen.size >= 100) return;
    seen.add(message);
    process.stderr.write(`${where}: instrumentation error (request unaffected): ${message}\n`);
  };
}

function optionalFunction<F>(where: string, key: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') invalidOption(where, key, value, 'a function');
  return value as F;
}

function optionalBoolean(where: string, key: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') invalidOption(where, key, value, 'true or false');
  return value;
}

function numberList(where: string, key: string, value: unknown, fallback: readonly number[]) {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'number')) {
    invalidOption(where, key, value, 'an array of numbers');
  }
  // Order, finiteness and duplicates are checked by the histogram itself (PROMFORK_INVALID_BUCKETS).
  return Object.freeze([...(value as number[])]);
}

function oneOf<T extends string>(
  where: string,
  key: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    invalidOption(where, key, value, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

/** A plain object of options (not an array, not null), keys checked against `keys`. */
function optionObject(where: string, key: string, value: unknown, keys: readonly string[]) {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalidOption(where, key, value, 'an object');
  }
  assertOptionKeys(value, keys, `${where} option "${key}"`);
  return value;
}

function resolveMetricNames(
  where: string,
  given: unknown,
  convention: HttpConvention,
  prefix: string,
): ResolvedHttpMetricsOptions['metricNames'] {
  const names: Record<string, string | false> = { ...convention.metricNames };
  if (given !== undefined) {
    const o = optionObject(where, 'metricNames', given, METRIC_NAME_KEYS);
    for (const key of METRIC_NAME_KEYS) {
      const name = o[key];
      if (name === undefined) continue;
      const canOmit = key === 'requestsTotal';
      if (!(canOmit && name === false) && !validateMetricName(name)) {
        const expected = 'a metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*';
        invalidOption(
          where,
          `metricNames.${key}`,
          name,
          canOmit ? `${expected} or false` : expected,
        );
      }
      names[key] = name as string | false;
    }
  }
  const seen = new Map<string, string>();
  for (const key of METRIC_NAME_KEYS) {
    const name = names[key];
    if (name === false || name === undefined) continue;
    const other = seen.get(prefix + name);
    if (other !== undefined) {
      invalidOption(where, `metricNames.${key}`, name, `a name other than that of ${other}`);
    }
    names[key] = prefix + name;
    seen.set(prefix + name, key);
  }
  return names as ResolvedHttpMetricsOptions['metricNames'];
}

function resolveLabelNames(where: string, given: unknown, convention: HttpConvention): string[] {
  const labels: Record<string, string> = { ...convention.labelNames };
  if (given !== undefined) {
    const o = optionObject(where, 'labelNames', given, LABEL_NAME_KEYS);
    for (const key of LABEL_NAME_KEYS) {
      const name = o[key];
      if (name === undefined) continue;
      if (
        typeof name !== 'string' ||
        !validateLabelName(name) ||
        name.startsWith('__') ||
        RESERVED_LABELS.includes(name)
      ) {
        invalidOption(
          where,
          `labelNames.${key}`,
          name,
          `a label name matching [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__", not ${RESERVED_LABELS.join(', ')}`,
        );
      }
      labels[key] = name;
    }
  }
  const list = LABEL_NAME_KEYS.map((key) => labels[key] as string);
  list.forEach((name, i) => {
    if (
      list.indexOf(name) !== i ||
      (convention.opentelemetry && OTEL_EXTRA_LABELS.includes(name))
    ) {
      invalidOption(where, `labelNames.${LABEL_NAME_KEYS[i]}`, name, 'a label name used once');
    }
  });
  return list;
}

function resolveDefaultMetrics(where: string, value: unknown): false | HttpDefaultMetricsOptions {
  if (value === undefined || value === true) return {};
  if (value === false) return false;
  // Types of the fields are checked by collectDefaultMetrics itself when it runs.
  return optionObject(
    where,
    'defaultMetrics',
    value,
    DEFAULT_METRICS_KEYS,
  ) as HttpDefaultMetricsOptions;
}

function resolveSummary(where: string, value: unknown): Required<HttpSummaryOptions> {
  if (value === undefined) return HTTP_METRICS_DEFAULTS.summary;
  // Values are checked by the Summary itself (PROMFORK_INVALID_OPTION naming the value).
  const o = optionObject(where, 'summary', value, SUMMARY_KEYS);
  return {
    percentiles: numberList(
      where,
      'summary.percentiles',
      o.percentiles,
      HTTP_METRICS_DEFAULTS.summary.percentiles,
    ),
    maxAgeSeconds: (o.maxAgeSeconds as number) ?? HTTP_METRICS_DEFAULTS.summary.maxAgeSeconds,
    ageBuckets: (o.ageBuckets as number) ?? HTTP_METRICS_DEFAULTS.summary.ageBuckets,
  };
}

function resolveRouteOptions<Req>(options: Record<string, unknown>, where: string) {
  const registry = options.registry ?? register;
  if (!(registry instanceof Registry)) {
    invalidOption(where, 'registry', registry, 'a Registry from @promfork/core');
  }
  return {
    registry,
    authorize: optionalFunction<(req: Req) => boolean | Promise<boolean>>(
      where,
      'authorize',
      options.authorize,
    ),
    onError:
      optionalFunction<(error: Error) => void>(where, 'onError', options.onError) ??
      stderrReporter(where),
  };
}

/** Validates the options of `metricsHandler()`; throws InvalidOptionError on any bad key. */
export function resolveMetricsRouteOptions<Req>(
  options: MetricsRouteOptions<Req> | undefined,
  where: string,
): Pick<ResolvedHttpMetricsOptions<Req>, 'registry' | 'authorize' | 'onError'> {
  const given = options ?? {};
  assertOptionKeys(given, ROUTE_KEYS, where);
  return resolveRouteOptions<Req>(given, where);
}

/** Validates middleware/plugin options and applies the defaults; throws InvalidOptionError. */
export function resolveHttpMetricsOptions<Req, Res>(
  options: HttpMetricsOptions<Req, Res> | undefined,
  where: string,
): ResolvedHttpMetricsOptions<Req, Res> {
  const given = options ?? {};
  assertOptionKeys(given, HTTP_KEYS, where);
  const o = given as Record<string, unknown>;

  let metricsPath: string | false = HTTP_METRICS_DEFAULTS.metricsPath;
  if (o.metricsPath !== undefined) {
    if (
      o.metricsPath !== false &&
      (typeof o.metricsPath !== 'string' || o.metricsPath[0] !== '/')
    ) {
      invalidOption(where, 'metricsPath', o.metricsPath, 'a path starting with "/" or false');
    }
    metricsPath = o.metricsPath;
  }

  let excludeRoutes = HTTP_METRICS_DEFAULTS.excludeRoutes;
  if (o.excludeRoutes !== undefined) {
    const list = o.excludeRoutes;
    if (!Array.isArray(list) || list.some((r) => typeof r !== 'string' && !(r instanceof RegExp))) {
      invalidOption(where, 'excludeRoutes', list, 'an array of strings and RegExps');
    }
    excludeRoutes = Object.freeze([...(list as (string | RegExp)[])]);
  }

  const conventions = oneOf(where, 'conventions', o.conventions, HTTP_CONVENTIONS, 'promfork');
  const convention = CONVENTIONS[conventions];
  const prefix = o.metricPrefix ?? HTTP_METRICS_DEFAULTS.metricPrefix;
  if (typeof prefix !== 'string' || (prefix !== '' && !validateMetricName(prefix))) {
    invalidOption(where, 'metricPrefix', prefix, 'a string usable at the start of a metric name');
  }
  const metricNames = resolveMetricNames(where, o.metricNames, convention, prefix);
  const ownLabels = [
    ...resolveLabelNames(where, o.labelNames, convention),
    ...(convention.opentelemetry ? OTEL_EXTRA_LABELS : []),
  ];

  const extraLabels: [string, (req: Req, res: Res) => LabelValue][] = [];
  if (o.extraLabels !== undefined) {
    const labels = o.extraLabels;
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
      invalidOption(where, 'extraLabels', labels, 'an object of label name to value function');
    }
    for (const [name, fn] of Object.entries(labels as Record<string, unknown>)) {
      assertLabelName(name, 'http_requests_total');
      if (ownLabels.includes(name)) {
        throw new InvalidOptionError(
          'PROMFORK_INVALID_OPTION',
          `${where}: extraLabels may not redefine the label ${JSON.stringify(name)}; ` +
            `expected a name other than ${ownLabels.join(', ')}`,
        );
      }
      if (typeof fn !== 'function') invalidOption(where, `extraLabels.${name}`, fn, 'a function');
      extraLabels.push([name, fn as (req: Req, res: Res) => LabelValue]);
    }
  }

  const maxSeries = o.maxSeries;
  if (maxSeries !== undefined && (!Number.isSafeInteger(maxSeries) || (maxSeries as number) < 0)) {
    invalidOption(where, 'maxSeries', maxSeries, 'a non-negative integer');
  }

  return {
    ...resolveRouteOptions<Req>(o, where),
    maxSeries: maxSeries as number | undefined,
    metricsPath,
    conventions,
    convention,
    defaultMetrics: resolveDefaultMetrics(where, o.defaultMetrics),
    metricNames,
    labelNames: [...ownLabels, ...extraLabels.map(([name]) => name)],
    up: optionalBoolean(where, 'up', o.up, convention.up),
    latency: oneOf(where, 'latency', o.latency, LATENCIES, HTTP_METRICS_DEFAULTS.latency),
    summary: resolveSummary(where, o.summary),
    buckets: numberList(where, 'buckets', o.buckets, convention.buckets),
    nativeHistogram: nativeOption(o.nativeHistogram, where),
    groupStatusCodes: optionalBoolean(
      where,
      'groupStatusCodes',
      o.groupStatusCodes,
      HTTP_METRICS_DEFAULTS.groupStatusCodes,
    ),
    excludeRoutes,
    skip: optionalFunction<(req: Req) => boolean>(where, 'skip', o.skip),
    extraLabels,
    exemplarLabels: optionalFunction<
      (req: Req, res: Res) => Readonly<Record<string, LabelValue>> | undefined
    >(where, 'exemplarLabels', o.exemplarLabels),
    normalizeRoute: optionalFunction<(route: string) => string>(
      where,
      'normalizeRoute',
      o.normalizeRoute,
    ),
    inFlight: optionalBoolean(where, 'inFlight', o.inFlight, convention.inFlight),
    requestSize: optionalBoolean(
      where,
      'requestSize',
      o.requestSize,
      HTTP_METRICS_DEFAULTS.requestSize,
    ),
    responseSize: optionalBoolean(
      where,
      'responseSize',
      o.responseSize,
      HTTP_METRICS_DEFAULTS.responseSize,
    ),
    sizeBuckets: numberList(where, 'sizeBuckets', o.sizeBuckets, HTTP_METRICS_DEFAULTS.sizeBuckets),
  };
}

/** The `nativeHistogram` option, checked now (so a bad one fails at setup, named as an HTTP option). */
function nativeOption(value: unknown, where: string): boolean | NativeHistogramOptions {
  resolveNativeOption(value, where);
  return (value ?? false) as boolean | NativeHistogramOptions;
}
