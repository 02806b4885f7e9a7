/**
 * Process and runtime metrics under prom-client's names, so existing dashboards keep working:
 * CPU, memory, file descriptors, event-loop delay, handles/requests/resources, V8 heap and heap
 * spaces, GC durations and the Node.js version.
 *
 * Values are sampled when they are read: one `collect` callback per group (a scrape or `get()`
 * runs it) refreshes every metric of the group, as prom-client does. GC durations are observed
 * as GC happens (PerformanceObserver); the event-loop delay statistics come from
 * `monitorEventLoopDelay` and cover the time since the previous sample.
 *
 * ## Multi-process mode
 * Only the process answering a scrape runs collect callbacks. So that the other workers'
 * numbers stay fresh, every process also samples itself every `refreshIntervalSeconds` (an
 * unref'd timer) when its metrics live in a store shared by several processes (`store.kind`
 * is not `memory`). How the values merge:
 * - per-process gauges (memory, fds, start time, event loop, handles, heap): `liveall`, so
 *   the file store adds a `pid` label and drops a worker's series when it dies;
 * - `process_cpu_*_seconds_total` and `nodejs_gc_duration_seconds`: counters/histograms, so
 *   they sum across processes, dead workers' CPU time and GC pauses included;
 * - `nodejs_version_info`: `livemax`, one series per version however many workers run it.
 *
 * ## Differences from prom-client (deliberate)
 * - Unknown option keys and wrongly typed options throw instead of being ignored.
 * - `process_cpu_*_seconds_total` count the process's CPU time since it started (as the Go,
 *   Python and Java clients do), not since `collectDefaultMetrics()` was called.
 * - `process_start_time_seconds` keeps sub-second precision (`performance.timeOrigin`).
 * - `nodejs_eventloop_lag_seconds` is measured during the scrape (the scrape waits one
 *   `setImmediate`), not left behind for the next scrape; the `_min/_max/...` statistics keep
 *   their previous values when no sample was taken since the last reading (prom-client reports
 *   9.2e9 s as the minimum then).
 * - Every GC entry of a PerformanceObserver batch is observed, not only the first.
 * - The function returns a handle whose `stop()` releases the monitors and the timer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import {
  type IntervalHistogram,
  monitorEventLoopDelay,
  PerformanceObserver,
  constants as perfConstants,
} from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { assertBuckets } from './buckets.js';
import { Counter } from './counter.js';
import {
  AlreadyRegisteredError,
  describeValue,
  InvalidOptionError,
  LabelSetError,
} from './errors.js';
import { Gauge } from './gauge.js';
import { Histogram } from './histogram.js';
import { register as defaultRegister, Registry } from './registry.js';
import type { LabelValue, LabelValues } from './types.js';
import { assertLabelName, assertOptionKeys, invalidOption } from './validation.js';

/** Options of {@link collectDefaultMetrics}. */
export interface DefaultMetricsOptions {
  /**
   * Registry to register the metrics in.
   * @default the default registry (`register`)
   */
  register?: Registry;
  /**
   * Prepended to every metric name (`myapp_` gives `myapp_process_cpu_seconds_total`).
   * @default ''
   */
  prefix?: string;
  /**
   * Labels added to every series of every default metric (e.g. `{ service: 'api' }`).
   * @default {}
   */
  labels?: Readonly<Record<string, LabelValue>>;
  /**
   * Buckets of `nodejs_gc_duration_seconds`, in seconds.
   * @default [0.001, 0.01, 0.1, 1, 2, 5]
   */
  gcDurationBuckets?: readonly number[];
  /**
   * Sampling resolution of the event-loop delay monitor, in milliseconds (an integer >= 1).
   * @default 10
   */
  eventLoopMonitoringPrecision?: number;
  /**
   * How often each process samples itself when its store is shared by several processes, in
   * seconds; 0 turns the timer off (then only the scraping process's values are fresh).
   * Ignored with a single-process store, where a scrape always samples.
   * @default 10
   */
  refreshIntervalSeconds?: number;
}

/** What {@link collectDefaultMetrics} returns. */
export interface DefaultMetrics {
  /**
   * Stops the event-loop monitor, the GC observer and the refresh timer. The metrics stay
   * registered (remove them through the registry) and keep their last values, except that a
   * scrape still samples the gauges.
   */
  stop(): void;
}

/** Default buckets of `nodejs_gc_duration_seconds` (prom-client's). */
export const DEFAULT_GC_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.01, 0.1, 1, 2, 5,
]);

/** Every metric name {@link collectDefaultMetrics} can register (without prefix). */
export const DEFAULT_METRIC_NAMES: readonly string[] = Object.freeze([
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_cpu_seconds_total',
  'process_start_time_seconds',
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_heap_bytes',
  'process_open_fds',
  'process_max_fds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_min_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_stddev_seconds',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_requests',
  'nodejs_active_requests_total',
  'nodejs_heap_size_total_bytes',
  'nodejs_heap_size_used_bytes',
  'nodejs_external_memory_bytes',
  'nodejs_heap_space_size_total_bytes',
  'nodejs_heap_space_size_used_bytes',
  'nodejs_heap_space_size_available_bytes',
  'nodejs_version_info',
  'nodejs_gc_duration_seconds',
]);

const OPTION_KEYS: readonly string[] = [
  'register',
  'prefix',
  'labels',
  'gcDurationBuckets',
  'eventLoopMonitoringPrecision',
  'refreshIntervalSeconds',
];
const WHERE = 'collectDefaultMetrics()';
/** Labels some default metrics declare (or the store/histograms reserve): not usable in `labels`. */
const OWN_LABELS: readonly string[] = [
  'type',
  'space',
  'kind',
  'version',
  'major',
  'minor',
  'patch',
  'le',
  'pid',
];

/** GC kinds as `nodejs_gc_duration_seconds` labels them (perf_hooks constants -> name). */
const GC_KINDS: ReadonlyMap<number, string> = new Map([
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [perfConstants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

/** Node's undocumented (but long-standing) introspection of libuv handles and requests. */
interface ProcessInternals {
  _getActiveHandles?: () => unknown[];
  _getActiveRequests?: () => unknown[];
}

/**
 * Registers the default process and runtime metrics (see the module comment for the list and
 * for multi-process behaviour) and starts their monitors. Throws {@link InvalidOptionError}
 * for unknown or wrongly typed options, and the registry's error when a name is taken (for
 * example when called twice on one registry).
 */
/**
 * Default metrics an HTTP adapter registered on its own (its `defaultMetrics` option), per
 * registry: a later explicit {@link collectDefaultMetrics} call on that registry replaces them
 * instead of failing, so code that calls it after installing an adapter keeps working.
 */
const implicitSets = new WeakMap<Registry, { prefix: string; handle: DefaultMetrics }>();

/**
 * Registers the default metrics on behalf of an HTTP adapter (see {@link implicitSets}), unless
 * the registry already has any of them (another adapter's, or the user's own). Internal to
 * core: adapters reach it through the HTTP instrumentation's `defaultMetrics` option.
 */
export function collectImplicitDefaultMetrics(
  options: DefaultMetricsOptions & { register: Registry },
): void {
  const prefix = options.prefix ?? '';
  const registry = options.register;
  if (DEFAULT_METRIC_NAMES.some((name) => registry.getSingleMetric(prefix + name))) return;
  const handle = collectDefaultMetrics(options);
  implicitSets.set(registry, { prefix, handle });
}

export function collectDefaultMetrics(options: DefaultMetricsOptions = {}): DefaultMetrics {
  // (Checked as unknown: narrowing `options` to a record would erase the option types.)
  assertOptionKeys(options as unknown, OPTION_KEYS, WHERE);
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string') invalidOption(WHERE, 'prefix', prefix, 'a string');
  const labels = checkLabels(options.labels);
  const precision = options.eventLoopMonitoringPrecision ?? 10;
  if (!Number.isInteger(precision) || precision < 1) {
    invalidOption(WHERE, 'eventLoopMonitoringPrecision', precision, 'an integer >= 1 (ms)');
  }
  const refreshSeconds = options.refreshIntervalSeconds ?? 10;
  if (
    typeof refreshSeconds !== 'number' ||
    !Number.isFinite(refreshSeconds) ||
    refreshSeconds < 0
  ) {
    invalidOption(WHERE, 'refreshIntervalSeconds', refreshSeconds, 'a finite number >= 0');
  }
  const gcBuckets = assertBuckets(
    options.gcDurationBuckets ?? DEFAULT_GC_DURATION_BUCKETS,
    `${WHERE} option "gcDurationBuckets"`,
  );
  if (options.register !== undefined && !(options.register instanceof Registry)) {
    invalidOption(WHERE, 'register', options.register, 'a Registry');
  }
  // Check everything that could fail before registering anything, so a rejected call leaves
  // the registry as it was.
  const registry = options.register ?? defaultRegister;
  const implicit = implicitSets.get(registry);
  if (implicit !== undefined) {
    // An adapter registered them first: the user's explicit call (its options) wins.
    implicitSets.delete(registry);
    implicit.handle.stop();
    for (const metric of DEFAULT_METRIC_NAMES)
      registry.removeSingleMetric(implicit.prefix + metric);
  }
  for (const metric of DEFAULT_METRIC_NAMES) {
    const existing = registry.getSingleMetric(prefix + metric);
    if (existing !== undefined) throw new AlreadyRegisteredError(prefix + metric, existing);
  }

  const labelNames = Object.keys(labels);
  const registers = options.register === undefined ? undefined : [options.register];
  const base = { labelNames, ...(registers === undefined ? {} : { registers }) };
  const name = (suffix: string) => prefix + suffix;
  /** `labels` plus per-series labels (which come first, as prom-client declares them). */
  const withLabels = (extra: Record<string, string>): LabelValues => ({ ...extra, ...labels });

  const samplers: (() => void)[] = [];
  const stoppers: (() => void)[] = [];

  // CPU: counters fed with the growth of process.cpuUsage() since the previous sample.
  let lastCpu = { user: 0, system: 0 };
  const sampleCpu = () => {
    const now = process.cpuUsage();
    const user = Math.max(0, now.user - lastCpu.user) / 1e6;
    const system = Math.max(0, now.system - lastCpu.system) / 1e6;
    lastCpu = now;
    cpuUser.inc(labels, user);
    cpuSystem.inc(labels, system);
    cpuTotal.inc(labels, user + system);
  };
  const cpuUser = new Counter({
    ...base,
    name: name('process_cpu_user_seconds_total'),
    help: 'Total user CPU time spent in seconds.',
    collect: sampleCpu,
  });
  const cpuSystem = new Counter({
    ...base,
    name: name('process_cpu_system_seconds_total'),
    help: 'Total system CPU time spent in seconds.',
  });
  const cpuTotal = new Counter({
    ...base,
    name: name('process_cpu_seconds_total'),
    help: 'Total user and system CPU time spent in seconds.',
  });
  samplers.push(sampleCpu);

  const perProcess = (metric: string, help: string, collect?: () => void | Promise<void>) =>
    new Gauge({
      ...base,
      name: name(metric),
      help,
      multiprocessMode: 'liveall',
      aggregator: 'average',
      ...(collect === undefined ? {} : { collect }),
    });

  const startSeconds = performance.timeOrigin / 1000;
  const sampleStart = () => startTime.set(labels, startSeconds);
  const startTime = perProcess(
    'process_start_time_seconds',
    'Start time of the process since unix epoch in seconds.',
    sampleStart,
  );
  samplers.push(sampleStart);

  // Memory: /proc/self/status on Linux (RSS, virtual size, data segment), RSS elsewhere.
  const sampleMemory = () => {
    const status = process.platform === 'linux' ? readProcStatus() : undefined;
    if (status !== undefined) {
      setIfKnown(resident, labels, status.get('VmRSS'));
      setIfKnown(virtual, labels, status.get('VmSize'));
      setIfKnown(heap, labels, status.get('VmData'));
    } else {
      setIfKnown(
        resident,
        labels,
        safeCall(() => process.memoryUsage.rss()),
      );
    }
  };
  const resident = perProcess(
    'process_resident_memory_bytes',
    'Resident memory size in bytes.',
    sampleMemory,
  );
  const virtual =
    process.platform === 'linux'
      ? perProcess('process_virtual_memory_bytes', 'Virtual memory size in bytes.')
      : undefined;
  const heap =
    process.platform === 'linux'
      ? perProcess('process_heap_bytes', 'Process heap size in bytes.')
      : undefined;
  samplers.push(sampleMemory);

  // File descriptors (Linux procfs only, like prom-client).
  if (process.platform === 'linux') {
    const sampleFds = () => {
      // readdirSync opens the directory itself: that descriptor is not the process's.
      const open = safeCall(() => readdirSync('/proc/self/fd').length - 1);
      setIfKnown(openFds, labels, open);
      setIfKnown(maxFds, labels, readMaxFds());
    };
    const openFds = perProcess('process_open_fds', 'Number of open file descriptors.', sampleFds);
    const maxFds = perProcess('process_max_fds', 'Maximum number of open file descriptors.');
    samplers.push(sampleFds);
  }

  // Event loop: delay statistics since the previous sample, and the lag of one turn now.
  const delay: IntervalHistogram = monitorEventLoopDelay({ resolution: precision });
  delay.enable();
  stoppers.push(() => delay.disable());
  const sampleDelay = () => {
    // Without a sample since the last reset min/max/mean are placeholders (2^63 ns, NaN).
    if (delay.count > 0) {
      lagMin.set(labels, delay.min / 1e9);
      lagMax.set(labels, delay.max / 1e9);
      lagMean.set(labels, delay.mean / 1e9);
      lagStddev.set(labels, delay.stddev / 1e9);
      lagP50.set(labels, delay.percentile(50) / 1e9);
      lagP90.set(labels, delay.percentile(90) / 1e9);
      lagP99.set(labels, delay.percentile(99) / 1e9);
    }
    delay.reset();
  };
  // The lag gauge's collect measures one turn of the loop now; the scrape awaits it.
  const lag = perProcess(
    'nodejs_eventloop_lag_seconds',
    'Lag of event loop in seconds.',
    async () => {
      sampleDelay();
      lag.set(labels, await measureLag());
    },
  );
  const lagMin = perProcess(
    'nodejs_eventloop_lag_min_seconds',
    'The minimum recorded event loop delay.',
  );
  const lagMax = perProcess(
    'nodejs_eventloop_lag_max_seconds',
    'The maximum recorded event loop delay.',
  );
  const lagMean = perProcess(
    'nodejs_eventloop_lag_mean_seconds',
    'The mean of the recorded event loop delays.',
  );
  const lagStddev = perProcess(
    'nodejs_eventloop_lag_stddev_seconds',
    'The standard deviation of the recorded event loop delays.',
  );
  const lagP50 = perProcess(
    'nodejs_eventloop_lag_p50_seconds',
    'The 50th percentile of the recorded event loop delays.',
  );
  const lagP90 = perProcess(
    'nodejs_eventloop_lag_p90_seconds',
    'The 90th percentile of the recorded event loop delays.',
  );
  const lagP99 = perProcess(
    'nodejs_eventloop_lag_p99_seconds',
    'The 99th percentile of the recorded event loop delays.',
  );
  samplers.push(() => {
    sampleDelay();
    void measureLag().then((seconds) => lag.set(labels, seconds));
  });

  // Handles, requests and resources, grouped by type, plus totals.
  const byType = (
    metric: string,
    help: string,
    totalHelp: string,
    list: () => unknown[] | undefined,
  ) => {
    const sample = () => {
      const items = safeCall(list);
      if (items === undefined) return;
      const counts = new Map<string, number>();
      for (const item of items) {
        const type = typeName(item);
        counts.set(type, (counts.get(type) ?? 0) + 1);
      }
      // Types that disappeared must not linger at their last count.
      perType.reset();
      for (const [type, count] of counts) perType.set(withLabels({ type }), count);
      total.set(labels, items.length);
    };
    const perType = new Gauge({
      ...base,
      labelNames: ['type', ...labelNames],
      name: name(metric),
      help,
      multiprocessMode: 'liveall',
      aggregator: 'average',
      collect: sample,
    });
    const total = perProcess(`${metric}_total`, totalHelp);
    samplers.push(sample);
  };
  const internals = process as unknown as ProcessInternals;
  byType(
    'nodejs_active_resources',
    'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
    'Total number of active resources.',
    () => process.getActiveResourcesInfo(),
  );
  if (typeof internals._getActiveHandles === 'function') {
    byType(
      'nodejs_active_handles',
      'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.',
      'Total number of active handles.',
      () => internals._getActiveHandles?.(),
    );
  }
  if (typeof internals._getActiveRequests === 'function') {
    byType(
      'nodejs_active_requests',
      'Number of active libuv requests grouped by request type. Every request type is C++ class name.',
      'Total number of active requests.',
      () => internals._getActiveRequests?.(),
    );
  }

  // V8 heap.
  const sampleHeap = () => {
    const usage = safeCall(() => process.memoryUsage());
    if (usage === undefined) return;
    heapTotal.set(labels, usage.heapTotal);
    heapUsed.set(labels, usage.heapUsed);
    external.set(labels, usage.external);
  };
  const heapTotal = perProcess(
    'nodejs_heap_size_total_bytes',
    'Process heap size from Node.js in bytes.',
    sampleHeap,
  );
  const heapUsed = perProcess(
    'nodejs_heap_size_used_bytes',
    'Process heap size used from Node.js in bytes.',
  );
  const external = perProcess(
    'nodejs_external_memory_bytes',
    'Node.js external memory size in bytes.',
  );
  samplers.push(sampleHeap);

  const sampleSpaces = () => {
    const spaces = safeCall(() => getHeapSpaceStatistics());
    if (spaces === undefined) return;
    for (const space of spaces) {
      const labelled = withLabels({ space: space.space_name.replace(/_space$/, '') });
      spaceTotal.set(labelled, space.space_size);
      spaceUsed.set(labelled, space.space_used_size);
      spaceAvailable.set(labelled, space.space_available_size);
    }
  };
  const spaceGauge = (kind: string, collect?: () => void) =>
    new Gauge({
      ...base,
      labelNames: ['space', ...labelNames],
      name: name(`nodejs_heap_space_size_${kind}_bytes`),
      help: `Process heap space size ${kind} from Node.js in bytes.`,
      multiprocessMode: 'liveall',
      aggregator: 'average',
      ...(collect === undefined ? {} : { collect }),
    });
  const spaceTotal = spaceGauge('total', sampleSpaces);
  const spaceUsed = spaceGauge('used');
  const spaceAvailable = spaceGauge('available');
  samplers.push(sampleSpaces);

  // Version: set in collect so it survives a registry reset.
  const [major = '', minor = '', patch = ''] = process.version.slice(1).split('.');
  const versionLabels = withLabels({ version: process.version, major, minor, patch });
  const sampleVersion = (): void => versionInfo.set(versionLabels, 1);
  const versionInfo: Gauge = new Gauge({
    ...base,
    labelNames: ['version', 'major', 'minor', 'patch', ...labelNames],
    name: name('nodejs_version_info'),
    help: 'Node.js version info.',
    multiprocessMode: 'livemax',
    aggregator: 'first',
    collect: sampleVersion,
  });
  samplers.push(sampleVersion);

  // GC pauses, observed as they happen.
  const gc = new Histogram({
    ...base,
    labelNames: ['kind', ...labelNames],
    name: name('nodejs_gc_duration_seconds'),
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    buckets: gcBuckets,
  });
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as { detail?: unknown }).detail as { kind?: number } | null | undefined;
      const kind = GC_KINDS.get(detail?.kind ?? -1) ?? 'unknown';
      gc.observe(withLabels({ kind }), entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  stoppers.push(() => observer.disconnect());

  // Other processes cannot run our collect callbacks: sample ourselves now and then.
  if (cpuUser.store.kind !== 'memory' && refreshSeconds > 0) {
    const refresh = () => {
      for (const sample of samplers) {
        try {
          sample();
        } catch {
          // A sampler failing (a vanished /proc entry) must not stop the others or the timer.
        }
      }
    };
    refresh();
    const timer = setInterval(refresh, refreshSeconds * 1000);
    timer.unref();
    stoppers.push(() => clearInterval(timer));
  }

  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      for (const stop of stoppers) stop();
    },
  };
}

/** prom-client's list of default metric names, kept for code that reads it. */
collectDefaultMetrics.metricsList = DEFAULT_METRIC_NAMES;

function checkLabels(labels: unknown): Readonly<Record<string, string | number>> {
  if (labels === undefined) return {};
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    invalidOption(WHERE, 'labels', labels, 'an object of label names to values');
  }
  for (const [key, value] of Object.entries(labels)) {
    assertLabelName(key, `${WHERE} labels`);
    if (OWN_LABELS.includes(key)) {
      throw new LabelSetError(
        'PROMFORK_RESERVED_LABEL',
        `${WHERE}: label ${describeValue(key)} is used by the default metrics themselves ` +
          `(${OWN_LABELS.join(', ')}); choose another name`,
      );
    }
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) {
      throw new InvalidOptionError(
        'PROMFORK_INVALID_OPTION',
        `${WHERE}: label ${describeValue(key)} has value ${describeValue(value)}: expected a string or a finite number`,
      );
    }
  }
  return labels as Readonly<Record<string, string | number>>;
}

function setIfKnown(
  gauge: Gauge | undefined,
  labels: LabelValues,
  value: number | undefined,
): void {
  if (gauge !== undefined && value !== undefined && Number.isFinite(value))
    gauge.set(labels, value);
}

/** Runs `read`, turning an exception (a platform without the API, procfs gone) into undefined. */
function safeCall<R>(read: () => R): R | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** `VmRSS`, `VmSize`, `VmData` of /proc/self/status, in bytes. */
function readProcStatus(): Map<string, number> | undefined {
  const text = safeCall(() => readFileSync('/proc/self/status', 'utf8'));
  if (text === undefined) return undefined;
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(VmRSS|VmSize|VmData):\s+(\d+)\s*kB/.exec(line);
    if (match !== null) values.set(match[1]!, Number(match[2]) * 1024);
  }
  return values;
}

/** The soft limit on open files from /proc/self/limits; undefined when unlimited or unknown. */
function readMaxFds(): number | undefined {
  const text = safeCall(() => readFileSync('/proc/self/limits', 'utf8'));
  const match = text === undefined ? null : /^Max open files\s+(\d+)/m.exec(text);
  return match === null ? undefined : Number(match[1]);
}

/** Seconds from now until the event loop runs a setImmediate callback. */
function measureLag(): Promise<number> {
  const start = process.hrtime.bigint();
  return new Promise((resolve) => {
    setImmediate(() => resolve(Number(process.hrtime.bigint() - start) / 1e9));
  });
}

/** prom-client's "type" of a handle or request: its constructor's name; resources are strings. */
function typeName(item: unknown): string {
  if (typeof item === 'string') return item;
  if (typeof item === 'object' && item !== null) {
    const ctor = (item as { constructor?: { name?: unknown } }).constructor;
    if (typeof ctor?.name === 'string' && ctor.name !== '') return ctor.name;
  }
  return 'unknown';
}
