/**
 * The framework-neutral HTTP instrumentation every adapter calls: it owns the metric names,
 * label names and buckets, turns what an adapter observed about one request into label values
 * (route normalisation and exclusion, method and status normalisation) and updates the metrics.
 *
 * Hot-path contract (the per-request budget is a few microseconds): label work happens once
 * per distinct (route, method, status, extra labels) combination; after that `record` is a
 * walk down nested Maps keyed by the raw values the adapter hands in, ending at cached bound
 * children whose `inc`/`observe` do no label work. No URL is parsed and no key string is built.
 *
 * Failure contract: `skip` and `record` never throw. Anything that goes wrong (a user hook
 * throws, a store rejects a write) is passed to `onError` and counted in
 * `promfork_instrumentation_errors_total`; the request itself is never affected.
 */
import { Counter, type CounterChild } from '../counter.js';
import { collectImplicitDefaultMetrics } from '../default-metrics.js';
import { describeValue, InvalidOptionError } from '../errors.js';
import { Gauge } from '../gauge.js';
import { Histogram, type HistogramChild } from '../histogram.js';
import { isDroppedChild } from '../metric.js';
import type { Registry } from '../registry.js';
import { Summary, type SummaryChild } from '../summary.js';
import type { LabelValue } from '../types.js';
import {
  CONVENTIONS,
  OTEL_ABORTED_ERROR,
  OTEL_EXTRA_LABELS,
  OTEL_METHODS,
  OTEL_OTHER_METHOD,
} from './conventions.js';
import { asError, MetricsRoute } from './metrics-route.js';
import {
  type HttpMetricsOptions,
  type MetricsRouteOptions,
  type ResolvedHttpMetricsOptions,
  resolveHttpMetricsOptions,
  resolveMetricsRouteOptions,
} from './options.js';
import { ABORTED_STATUS, normalizeMethod, statusLabel, UNMATCHED_ROUTE } from './route.js';

const OWN_NAMES = CONVENTIONS.promfork.metricNames;
/** Name of the request counter. */
export const HTTP_REQUESTS_TOTAL = OWN_NAMES.requestsTotal as string;
/** Name of the request duration histogram (seconds). */
export const HTTP_REQUEST_DURATION_SECONDS = OWN_NAMES.requestDuration;
/** Name of the opt-in in-flight gauge. */
export const HTTP_REQUESTS_IN_FLIGHT = OWN_NAMES.requestsInFlight;
/** Name of the opt-in request size histogram (bytes). */
export const HTTP_REQUEST_SIZE_BYTES = OWN_NAMES.requestSize;
/** Name of the opt-in response size histogram (bytes). */
export const HTTP_RESPONSE_SIZE_BYTES = OWN_NAMES.responseSize;
/** Name of the counter of errors the instrumentation swallowed. */
export const INSTRUMENTATION_ERRORS_TOTAL = 'promfork_instrumentation_errors_total';

/** What an adapter observed about one finished (or aborted) request. */
export interface HttpSample {
  /** The request method as received (normalised here). */
  readonly method: string | undefined;
  /** The matched route template; undefined when no route matched. */
  readonly route: string | undefined;
  /** The response status code. Ignored when `aborted`. */
  readonly statusCode: number;
  /** The client went away before the response was complete: labelled `status_code="aborted"`. */
  readonly aborted?: boolean;
  /** Seconds from the start of the request (see {@link elapsedSeconds}). */
  readonly durationSeconds: number;
  /**
   * The raw `Content-Length` request header; recorded only when `requestSize` is on. Adapters
   * leave it undefined unless {@link HttpInstrumentation.measuresRequestSize}, so a request pays
   * no header lookup for a histogram that is off.
   */
  readonly requestLength?: unknown;
  /**
   * The raw `Content-Length` response header; recorded only when `responseSize` is on.
   * Adapters leave it undefined unless {@link HttpInstrumentation.measuresResponseSize}.
   */
  readonly responseLength?: unknown;
  /**
   * Whether the request came over TLS; read only for the `url_scheme` label of the
   * 'opentelemetry' preset. Adapters leave it undefined unless
   * {@link HttpInstrumentation.measuresScheme} (see {@link isSecure}).
   */
  readonly secure?: boolean;
  /**
   * The Node request given to {@link HttpInstrumentation.start}: the 'opentelemetry' preset's
   * in-flight gauge, labelled by method and scheme, ends the count of the series `start()`
   * counted it in (noted on that object), whatever changed the request since.
   */
  readonly request?: object;
}

/** What {@link HttpInstrumentation.start} reads of a request: a Node `IncomingMessage`. */
export interface InFlightRequest {
  readonly method?: string | undefined;
  readonly socket?: unknown;
}

/** Where `start()` notes the in-flight series label values of a request (labelled gauge). */
const kInFlight = Symbol('promfork.inFlight');

/** True when the request arrived on a TLS socket (`https`), for {@link HttpSample.secure}. */
export function isSecure(req: { readonly socket?: unknown }): boolean {
  return (req.socket as { encrypted?: unknown } | null | undefined)?.encrypted === true;
}

/** A timestamp for {@link elapsedSeconds}, in milliseconds from an arbitrary origin. */
export function now(): number {
  return performance.now();
}

/** Seconds elapsed since `start` (a value of {@link now}). */
export function elapsedSeconds(start: number): number {
  return (performance.now() - start) / 1000;
}

/**
 * Per normalised route: its label value, or null when excluded; the label sets below it by
 * method, over plain HTTP and (only with the 'opentelemetry' preset's `url_scheme`) over TLS.
 */
type RouteEntry = {
  readonly label: string | null;
  readonly byMethod: Map<string, StatusMap>;
  readonly byMethodSecure: Map<string, StatusMap>;
  /**
   * The label set this route recorded last (without `extraLabels` only), so that a route
   * answering the same method and status again, the common case, skips both Map lookups:
   * a request reaches the Maps from cold caches, and each lookup costs a few cache misses.
   * Only children the Maps hold are remembered (never a set dropped by `maxSeries`).
   */
  last: Children | undefined;
  lastMethod: string;
  lastStatus: string;
  lastSecure: boolean;
};
type StatusMap = Map<string, unknown>;

/** The bound children of one label set; undefined where the metric is off. */
interface Children {
  readonly requests: CounterChild | undefined;
  readonly duration: HistogramChild | undefined;
  readonly summary: SummaryChild | undefined;
  readonly requestSize: HistogramChild | undefined;
  readonly responseSize: HistogramChild | undefined;
}

/** OpenTelemetry's method label: the known methods as they are, any other `_OTHER`. */
function otelMethod(method: unknown): string {
  const normalized = normalizeMethod(method);
  return OTEL_METHODS.has(normalized) ? normalized : OTEL_OTHER_METHOD;
}

/**
 * Wraps the user's `onError`: counts the error in `promfork_instrumentation_errors_total` of
 * `registry`, then hands it on. The returned function never throws.
 */
function errorReporter(registry: Registry, onError: (error: Error) => void): (e: Error) => void {
  const errors = registry.getOrCreate(Counter, {
    name: INSTRUMENTATION_ERRORS_TOTAL,
    help: 'Errors the HTTP instrumentation caught and reported to onError; requests were unaffected',
  });
  return (error: Error) => {
    try {
      errors.inc();
      onError(error);
    } catch {
      // The error reporter itself failed: nothing is left to tell, and the request goes on.
    }
  };
}

/**
 * The metrics route alone, for `metricsHandler()` in every adapter: validates `options`
 * (InvalidOptionError) and serves `registry.scrapeBytes()`.
 */
export function createMetricsRoute<Req>(
  options: MetricsRouteOptions<Req> | undefined,
  where: string,
): MetricsRoute<Req> {
  const { registry, authorize, onError } = resolveMetricsRouteOptions(options, where);
  return new MetricsRoute<Req>({
    scrape: (accept) => registry.scrapeBytes(accept),
    authorize,
    onError: errorReporter(registry, onError),
  });
}

function contentLength(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * One instrumented server: metrics created (or reused) in the chosen registry, a label cache,
 * and the metrics route. Adapters create one per middleware or plugin instance.
 */
export class HttpInstrumentation<Req = unknown, Res = unknown> {
  /** The validated options. */
  readonly options: ResolvedHttpMetricsOptions<Req, Res>;
  /** The metrics route configured by the same options. */
  readonly metricsRoute: MetricsRoute<Req>;
  /**
   * Reports a swallowed error: counts it and hands it to the user's `onError`. Never throws.
   * Bound, so adapters may pass it around.
   */
  readonly onError: (error: Error) => void;
  /**
   * Whether `http_request_size_bytes` is recorded. Adapters read the request's
   * `Content-Length` (for {@link HttpSample.requestLength}) only when this is true.
   */
  readonly measuresRequestSize: boolean;
  /**
   * Whether `http_response_size_bytes` is recorded. Adapters read the response's
   * `Content-Length` (for {@link HttpSample.responseLength}) only when this is true.
   */
  readonly measuresResponseSize: boolean;
  /**
   * Whether the request's scheme is a label ('opentelemetry' preset). Adapters compute
   * {@link HttpSample.secure} only when this is true.
   */
  readonly measuresScheme: boolean;

  readonly #requests: Counter<string> | undefined;
  readonly #duration: Histogram<string> | undefined;
  readonly #summary: Summary<string> | undefined;
  readonly #otel: boolean;
  readonly #inFlight: Gauge<string> | undefined;
  /** The in-flight gauge's label names (method, `url_scheme`) under the OTel preset; else none. */
  readonly #inFlightLabels: readonly [string, string] | undefined;
  /** Label objects of the in-flight series by method: [http, https] (see #inFlightSet). */
  readonly #inFlightSets = new Map<
    string,
    readonly [Record<string, string>, Record<string, string>]
  >();
  readonly #requestSize: Histogram<string> | undefined;
  readonly #responseSize: Histogram<string> | undefined;
  readonly #routes = new Map<unknown, RouteEntry>();
  readonly #extraValues: string[];

  /** Validates `options` (InvalidOptionError) and creates or reuses the metrics. */
  constructor(options: HttpMetricsOptions<Req, Res> | undefined, where: string) {
    const resolved = resolveHttpMetricsOptions<Req, Res>(options, where);
    this.options = resolved;
    const registry: Registry = resolved.registry;
    const { labelNames, metricNames: names, convention } = resolved;
    this.onError = errorReporter(registry, resolved.onError);
    if (resolved.defaultMetrics !== false) {
      collectImplicitDefaultMetrics({ ...resolved.defaultMetrics, register: registry });
    }
    // The series limit of the labelled metrics; dropped label sets are reported to onError.
    const limit =
      resolved.maxSeries === undefined
        ? {}
        : { maxSeries: resolved.maxSeries, onError: this.onError };
    this.#otel = convention.opentelemetry;
    this.measuresScheme = this.#otel;
    this.#requests =
      names.requestsTotal === false
        ? undefined
        : registry.getOrCreate(Counter, {
            name: names.requestsTotal,
            help: 'HTTP requests handled, by method, route template and status code',
            labelNames,
            enableExemplars: resolved.exemplarLabels !== undefined,
            ...limit,
          });
    const durationHelp =
      'Time from the start of the request to the end of the response, in seconds';
    this.#duration =
      resolved.latency === 'summary'
        ? undefined
        : registry.getOrCreate(Histogram, {
            name: names.requestDuration,
            help: durationHelp,
            labelNames,
            buckets: resolved.buckets,
            nativeHistogram: resolved.nativeHistogram,
            enableExemplars: resolved.exemplarLabels !== undefined,
            ...limit,
          });
    if (resolved.exemplarLabels !== undefined) {
      // getOrCreate reuses a metric of the name whatever its options: one made without
      // exemplars (an earlier instrumentation of this registry) would refuse every exemplar,
      // an error at each request and none ever shown.
      for (const metric of [this.#requests, this.#duration]) {
        if (metric !== undefined && !metric.enableExemplars) {
          throw new InvalidOptionError(
            'PROMFORK_INVALID_OPTION',
            `${where}: option "exemplarLabels" needs exemplars on the metric ` +
              `${describeValue(metric.name)}, which this registry already holds without them ` +
              '(give the first instrumentation of the registry exemplarLabels too)',
          );
        }
      }
    }
    this.#summary =
      resolved.latency === 'histogram'
        ? undefined
        : registry.getOrCreate(Summary, {
            name:
              resolved.latency === 'summary' ? names.requestDuration : names.requestDurationSummary,
            help: `${durationHelp} (quantiles merged across processes)`,
            labelNames,
            ...resolved.summary,
            ...limit,
          });
    if (resolved.up) {
      registry
        .getOrCreate(Gauge, {
          name: names.up,
          help: '1 while the server serves requests, 0 once setServing(false) was called',
          multiprocessMode: 'livemax' as const,
        })
        .set(1);
    }
    // OpenTelemetry's http.server.active_requests carries the method and the scheme (both
    // known when a request starts); the other presets keep one unlabelled series.
    this.#inFlightLabels = this.#otel
      ? [labelNames[0] as string, OTEL_EXTRA_LABELS[0] as string]
      : undefined;
    this.#inFlight = resolved.inFlight
      ? registry.getOrCreate(Gauge, {
          name: names.requestsInFlight,
          help: 'HTTP requests started and not yet finished',
          labelNames: this.#inFlightLabels ?? [],
          multiprocessMode: 'livesum' as const,
        })
      : undefined;
    const sizes = (name: string, what: string) =>
      registry.getOrCreate(Histogram, {
        name,
        help: `Size of HTTP ${what} bodies from Content-Length, in bytes`,
        labelNames,
        buckets: resolved.sizeBuckets,
        ...limit,
      });
    this.#requestSize = resolved.requestSize ? sizes(names.requestSize, 'request') : undefined;
    this.#responseSize = resolved.responseSize ? sizes(names.responseSize, 'response') : undefined;
    this.measuresRequestSize = this.#requestSize !== undefined;
    this.measuresResponseSize = this.#responseSize !== undefined;
    this.#extraValues = new Array<string>(resolved.extraLabels.length).fill('');
    // When `remove`, `reset` or a registry's `clear` drops series, the caches start over: the
    // cached children would go on counting (held children re-attach, see metric.ts), but the
    // cache would keep label sets the metric dropped, beyond its `maxSeries`. Through a
    // WeakRef, so that metrics shared with later instrumentations do not keep this one's cache.
    const routes = new WeakRef(this.#routes);
    const forgetChildren = () => routes.deref()?.clear();
    for (const metric of [
      this.#requests,
      this.#duration,
      this.#summary,
      this.#requestSize,
      this.#responseSize,
    ]) {
      metric?.addStaleChildrenHook(forgetChildren);
    }
    this.metricsRoute = new MetricsRoute<Req>({
      scrape: (accept) => registry.scrapeBytes(accept),
      authorize: resolved.authorize,
      onError: this.onError,
    });
  }

  /** The path of the metrics route, or false when the middleware serves none. */
  get metricsPath(): string | false {
    return this.options.metricsPath;
  }

  /**
   * True when `url` (path and query, as in `req.url`) addresses the metrics path exactly;
   * the query string is ignored. Plain string comparison, no URL parsing.
   */
  isMetricsPath(url: string | undefined): boolean {
    const path = this.options.metricsPath;
    if (path === false || typeof url !== 'string' || !url.startsWith(path)) return false;
    return url.length === path.length || url.charCodeAt(path.length) === 63; // '?'
  }

  /** Runs the user's `skip` hook; a throw counts as "do not skip" and is reported. */
  skip(req: Req): boolean {
    const skip = this.options.skip;
    if (skip === undefined) return false;
    try {
      return skip(req) === true;
    } catch (error) {
      this.onError(asError(error, 'skip threw'));
      return false;
    }
  }

  /**
   * Marks the start of a request: counts it in flight (when enabled) and returns its start
   * time for {@link elapsedSeconds}. Every `start()` must be followed by exactly one `record`,
   * whose sample carries the same `request` (adapters pass the Node request to both: the
   * 'opentelemetry' preset labels the in-flight count by its method and scheme).
   */
  start(request?: InFlightRequest): number {
    if (this.#inFlight !== undefined) {
      try {
        if (this.#inFlightLabels === undefined) this.#inFlight.inc();
        else this.#startLabelled(this.#inFlight, this.#inFlightLabels, request);
      } catch (error) {
        this.onError(asError(error, 'in-flight gauge'));
      }
    }
    return performance.now();
  }

  /** Counts a request in the in-flight series of its method and scheme, noted on `request`. */
  #startLabelled(
    gauge: Gauge<string>,
    [methodLabel, schemeLabel]: readonly [string, string],
    request: InFlightRequest | undefined,
  ): void {
    const labels = this.#inFlightSet(
      methodLabel,
      schemeLabel,
      otelMethod(request?.method),
      request !== undefined && isSecure(request),
    );
    gauge.inc(labels);
    if (request !== undefined) (request as { [kInFlight]?: unknown })[kInFlight] = labels;
  }

  /** Ends the in-flight count `start()` made for the request of `sample`. */
  #endInFlight(gauge: Gauge<string>, sample: HttpSample): void {
    if (this.#inFlightLabels === undefined) {
      gauge.dec();
      return;
    }
    const noted = sample.request as { [kInFlight]?: Record<string, string> } | undefined;
    const labels = noted?.[kInFlight];
    if (labels !== undefined) {
      noted![kInFlight] = undefined;
      gauge.dec(labels);
    } else if (sample.request === undefined) {
      // start() had no request either: it counted the series of an unknown method over http.
      const [methodLabel, schemeLabel] = this.#inFlightLabels;
      gauge.dec(this.#inFlightSet(methodLabel, schemeLabel, otelMethod(undefined), false));
    }
  }

  /**
   * The label object of an in-flight series, made once per method and scheme (the methods are
   * the convention's nine and `_OTHER`), so that a request allocates none.
   */
  #inFlightSet(
    methodLabel: string,
    schemeLabel: string,
    method: string,
    secure: boolean,
  ): Readonly<Record<string, string>> {
    let pair = this.#inFlightSets.get(method);
    if (pair === undefined) {
      pair = [
        Object.freeze({ [methodLabel]: method, [schemeLabel]: 'http' }),
        Object.freeze({ [methodLabel]: method, [schemeLabel]: 'https' }),
      ];
      this.#inFlightSets.set(method, pair);
    }
    return pair[secure ? 1 : 0];
  }

  /**
   * Records one finished or aborted request (and ends its in-flight count). Never throws.
   * `req`/`res` are handed to the `extraLabels` functions only.
   */
  record(sample: HttpSample, req: Req, res: Res): void {
    try {
      if (this.#inFlight !== undefined) this.#endInFlight(this.#inFlight, sample);
      const entry = this.#route(sample.route);
      if (entry.label === null) return;
      // Keyed by label values, not raw input, so made-up methods or odd status values cannot
      // grow the cache. Both lookups are a Map hit or an array index.
      // Two direct calls rather than one through a field: the common case stays monomorphic.
      const method = this.#otel ? otelMethod(sample.method) : normalizeMethod(sample.method);
      const secure = sample.secure === true;
      const status =
        sample.aborted === true
          ? ABORTED_STATUS
          : statusLabel(sample.statusCode, this.options.groupStatusCodes);
      let children = entry.last;
      if (
        children === undefined ||
        entry.lastMethod !== method ||
        entry.lastStatus !== status ||
        entry.lastSecure !== secure
      ) {
        children = this.#lookUp(entry, method, status, secure, req, res);
      }
      if (this.options.exemplarLabels === undefined) {
        children.requests?.inc();
        children.duration?.observe(sample.durationSeconds);
      } else {
        this.#recordWithExemplar(children, sample.durationSeconds, req, res);
      }
      children.summary?.observe(sample.durationSeconds);
      if (children.requestSize !== undefined) {
        const bytes = contentLength(sample.requestLength);
        if (bytes !== undefined) children.requestSize.observe(bytes);
      }
      if (children.responseSize !== undefined) {
        const bytes = contentLength(sample.responseLength);
        if (bytes !== undefined) children.responseSize.observe(bytes);
      }
    } catch (error) {
      this.onError(asError(error, 'record failed'));
    }
  }

  /**
   * The children of a label set of `entry` through its Maps (created on first use), and
   * remembered as the entry's last label set when the Maps hold them and no extra label
   * varies per request.
   */
  #lookUp(
    entry: RouteEntry,
    method: string,
    status: string,
    secure: boolean,
    req: Req,
    res: Res,
  ): Children {
    const byMethod = secure ? entry.byMethodSecure : entry.byMethod;
    let statuses = byMethod.get(method);
    if (statuses === undefined) {
      statuses = new Map();
      byMethod.set(method, statuses);
    }
    const children = this.#children(
      statuses,
      method,
      entry.label as string,
      status,
      secure,
      req,
      res,
    );
    if (this.options.extraLabels.length === 0 && statuses.get(status) === children) {
      entry.last = children;
      entry.lastMethod = method;
      entry.lastStatus = status;
      entry.lastSecure = secure;
    }
    return children;
  }

  /**
   * The request count and duration of one request with the `exemplarLabels` option: through
   * the cached children's exemplar methods when the hook gives labels (no second look-up, no
   * labels object), so each keeps them as its latest exemplar of that series and bucket; a
   * hook that throws, or labels no exemplar can carry, is reported and the request recorded
   * without one.
   */
  #recordWithExemplar(children: Children, seconds: number, req: Req, res: Res): void {
    let exemplarLabels: Readonly<Record<string, LabelValue>> | undefined;
    try {
      exemplarLabels = this.options.exemplarLabels?.(req, res);
    } catch (error) {
      this.onError(asError(error, 'exemplarLabels threw'));
    }
    const { requests, duration } = children;
    if (exemplarLabels === undefined) {
      requests?.inc();
      duration?.observe(seconds);
      return;
    }
    // A set dropped by maxSeries keeps no exemplar (and reports no bad exemplar labels): its
    // updates go nowhere, and its drop was counted when its children were bound.
    if (requests !== undefined && isDroppedChild(requests)) requests.inc();
    else if (requests !== undefined) {
      try {
        requests.incWithExemplar(1, exemplarLabels);
      } catch (error) {
        this.onError(asError(error, 'exemplar of the request counter'));
        requests.inc();
      }
    }
    if (duration !== undefined && isDroppedChild(duration)) duration.observe(seconds);
    else if (duration !== undefined) {
      try {
        duration.observeWithExemplar(seconds, exemplarLabels);
      } catch (error) {
        this.onError(asError(error, 'exemplar of the duration histogram'));
        duration.observe(seconds);
      }
    }
  }

  /** The cache entry of a raw route template: normalised once, exclusion decided once. */
  #route(raw: string | undefined): RouteEntry {
    let entry = this.#routes.get(raw);
    if (entry !== undefined) return entry;
    let label = raw === undefined || raw === '' ? UNMATCHED_ROUTE : raw;
    const { normalizeRoute, excludeRoutes } = this.options;
    if (normalizeRoute !== undefined && label !== UNMATCHED_ROUTE) {
      try {
        const normalized = normalizeRoute(label);
        if (typeof normalized !== 'string') {
          throw new TypeError(`normalizeRoute returned ${typeof normalized}, expected a string`);
        }
        label = normalized;
      } catch (error) {
        this.onError(asError(error, 'normalizeRoute threw'));
      }
    }
    const excluded = excludeRoutes.some((rule) =>
      typeof rule === 'string' ? rule === label : rule.test(label),
    );
    // A preset may name unmatched requests differently ('opentelemetry': no route, "").
    if (label === UNMATCHED_ROUTE) label = this.options.convention.unmatchedRoute;
    entry = {
      label: excluded ? null : label,
      byMethod: new Map(),
      byMethodSecure: new Map(),
      last: undefined,
      lastMethod: '',
      lastStatus: '',
      lastSecure: false,
    };
    this.#routes.set(raw, entry);
    return entry;
  }

  /** Bound children for one label set, created (and cached) on first use. */
  #children(
    statuses: StatusMap,
    method: string,
    route: string,
    status: string,
    secure: boolean,
    req: Req,
    res: Res,
  ): Children {
    const extra = this.options.extraLabels;
    let node: unknown = statuses.get(status);
    if (extra.length === 0) {
      if (node !== undefined) return node as Children;
      const children = this.#bind(this.#ownValues(method, route, status, secure));
      // A label set dropped by maxSeries is not cached: the cache stays as bounded as the
      // metrics, and every later request of it is counted as dropped again.
      if (!isDropped(children)) statuses.set(status, children);
      return children;
    }
    // Extra labels: one more Map level per label, keyed by the computed value.
    const values = this.#extraValues;
    for (let i = 0; i < extra.length; i++) {
      const [name, fn] = extra[i] as (typeof extra)[number];
      let value = '';
      try {
        const v = fn(req, res);
        if (typeof v === 'string') value = v;
        else if (typeof v === 'number' && Number.isFinite(v)) value = String(v);
        else
          throw new TypeError(
            `extraLabels.${name} returned ${typeof v}, expected a string or finite number`,
          );
      } catch (error) {
        this.onError(asError(error, `extraLabels.${name} threw`));
      }
      values[i] = value;
    }
    // Look up without creating anything; levels are created only for a label set kept.
    for (let i = 0; node !== undefined && i < extra.length; i++) {
      node = (node as Map<string, unknown>).get(values[i] as string);
    }
    if (node !== undefined) return node as Children;
    const children = this.#bind([...this.#ownValues(method, route, status, secure), ...values]);
    if (isDropped(children)) return children;
    let map = statuses.get(status) as Map<string, unknown> | undefined;
    if (map === undefined) {
      map = new Map();
      statuses.set(status, map);
    }
    const last = extra.length - 1;
    for (let i = 0; i < last; i++) {
      let next = map.get(values[i] as string) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        map.set(values[i] as string, next);
      }
      map = next;
    }
    map.set(values[last] as string, children);
    return children;
  }

  /**
   * The values of the labels the instrumentation owns, in `labelNames` order. With the
   * 'opentelemetry' preset: `url_scheme`, and `error_type` set for server errors (the status
   * code) and aborted requests (which have no status). Runs once per label set.
   */
  #ownValues(method: string, route: string, status: string, secure: boolean): string[] {
    if (!this.#otel) return [method, route, status];
    const scheme = secure ? 'https' : 'http';
    if (status === ABORTED_STATUS) return [method, route, '', scheme, OTEL_ABORTED_ERROR];
    return [method, route, status, scheme, status.startsWith('5') ? status : ''];
  }

  #bind(values: readonly string[]): Children {
    return {
      requests: this.#requests?.labels(...values),
      duration: this.#duration?.labels(...values),
      summary: this.#summary?.labels(...values),
      requestSize: this.#requestSize?.labels(...values),
      responseSize: this.#responseSize?.labels(...values),
    };
  }
}

/** True when any child of a label set was dropped by `maxSeries` (its metric is full). */
function isDropped(children: Children): boolean {
  return (
    (children.requests !== undefined && isDroppedChild(children.requests)) ||
    (children.duration !== undefined && isDroppedChild(children.duration)) ||
    (children.summary !== undefined && isDroppedChild(children.summary)) ||
    (children.requestSize !== undefined && isDroppedChild(children.requestSize)) ||
    (children.responseSize !== undefined && isDroppedChild(children.responseSize))
  );
}
