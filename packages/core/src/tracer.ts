/**
 * Time accounting for long-running work (the incremental-measurement pattern).
 *
 * Timing a job with `startTimer()` adds its whole duration when it ends: a 10-minute job shows
 * up as one 600-second step, `rate()` over the job's lifetime reads zero and then a spike, and
 * a job that never ends (a crash, a stuck worker) is never counted. A tracked job instead adds
 * its elapsed seconds to a counter while it runs:
 * - every `intervalSeconds` (one shared, unref'd timer per {@link Tracer} that runs only while
 *   jobs are active, so it never keeps a process alive), and
 * - whenever the counter is read (a scrape or `get()`), through the metric's collect hook, so
 *   the process answering a scrape reports its running jobs up to the moment of the scrape;
 * - on `end()`, only the remainder.
 * The total a job adds equals its elapsed time (end clock minus start clock), up to float
 * rounding of the counter's additions. In multi-process mode another process's running jobs
 * are at most `intervalSeconds` behind in a scrape.
 *
 * The counter's unit is seconds; a typical use is `job_seconds_total{job="reindex"}` whose
 * `rate()` is the number of jobs busy on average.
 */
import type { Counter } from './counter.js';
import { describeValue, InvalidOptionError } from './errors.js';
import type { LabelValues } from './types.js';
import { assertOptionKeys, invalidOption } from './validation.js';

/** Options of {@link Tracer}. */
export interface TracerOptions {
  /**
   * Seconds between increments of a running job. Shorter gives smoother rates; each increment
   * is one counter `inc` per running job (and, with a file store, a write at the end of that
   * event-loop turn). Must be > 0.
   * @default 1
   */
  intervalSeconds?: number;
  /**
   * Clock in milliseconds, monotonic. Tests inject a fake clock here.
   * @default performance.now
   */
  now?: () => number;
  /**
   * Called when adding to a counter fails in the background (the timer). Instrumentation never
   * throws into the user's code from there.
   * @default emits a process warning (once per tracer)
   */
  onError?: (error: unknown) => void;
}

/** A running job; see {@link Tracer.track}. */
export interface TrackedJob {
  /** Seconds added to the counter so far. */
  readonly recordedSeconds: number;
  /** Whether `end()` was called. */
  readonly ended: boolean;
  /** Adds the time elapsed since the last addition now (the timer and scrapes do this). */
  flush(): void;
  /**
   * Adds the remaining elapsed time and stops tracking. Returns the job's total seconds.
   * Calling it again adds nothing and returns the same total.
   */
  end(): number;
}

const OPTION_KEYS: readonly string[] = ['intervalSeconds', 'now', 'onError'];

/** The part of a Counter the tracer uses. */
type TracedCounter<T extends string> = Pick<Counter<T>, 'inc' | 'labels' | 'addCollectHook'>;

class Job<T extends string> implements TrackedJob {
  recordedSeconds = 0;
  ended = false;

  constructor(
    private readonly tracer: Tracer,
    readonly counter: TracedCounter<T>,
    private readonly labels: LabelValues<T> | undefined,
    private readonly startMs: number,
  ) {}

  flush(): void {
    if (this.ended) return;
    this.addUntil(this.tracer.nowMs());
  }

  end(): number {
    if (!this.ended) {
      this.addUntil(this.tracer.nowMs());
      this.ended = true;
      this.tracer.release(this);
    }
    return this.recordedSeconds;
  }

  /** Adds what is elapsed at `nowMs` beyond what was recorded; never goes backwards. */
  private addUntil(nowMs: number): void {
    const elapsed = (nowMs - this.startMs) / 1000;
    const delta = elapsed - this.recordedSeconds;
    if (!(delta > 0)) return;
    if (this.labels === undefined) this.counter.inc(delta);
    else this.counter.inc(this.labels, delta);
    // The total is the clock difference itself, so rounding in `delta` never accumulates.
    this.recordedSeconds = elapsed;
  }
}

/**
 * Tracks long-running jobs against counters. Most code uses the module functions
 * {@link trackDuration} and {@link trace} (a default tracer with a 1-second interval); create
 * a Tracer for another interval or an injected clock.
 */
export class Tracer {
  /** Seconds between background increments. */
  readonly intervalSeconds: number;
  private readonly clock: () => number;
  private readonly onError: (error: unknown) => void;
  private readonly jobs = new Set<Job<string>>();
  /** Running jobs per counter, and the remover of the counter's collect hook. */
  private readonly hooks = new Map<TracedCounter<string>, { jobs: number; remove: () => void }>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: TracerOptions = {}) {
    const where = 'new Tracer()';
    assertOptionKeys(options as unknown, OPTION_KEYS, where);
    const interval = options.intervalSeconds ?? 1;
    if (typeof interval !== 'number' || !(interval > 0) || !Number.isFinite(interval)) {
      invalidOption(where, 'intervalSeconds', interval, 'a finite number of seconds > 0');
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      invalidOption(where, 'now', options.now, 'a function returning milliseconds');
    }
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      invalidOption(where, 'onError', options.onError, 'a function');
    }
    this.intervalSeconds = interval;
    this.clock = options.now ?? (() => performance.now());
    let warned = false;
    this.onError =
      options.onError ??
      ((error) => {
        if (warned) return;
        warned = true;
        process.emitWarning(`promfork tracer: could not add a job's time: ${String(error)}`);
      });
  }

  /** Number of jobs running. */
  get activeJobs(): number {
    return this.jobs.size;
  }

  /**
   * Starts a job whose elapsed seconds go to `counter` (for `labels`, which must match the
   * counter's label names: they are checked now, so a bad label set throws here, never later
   * in the background).
   */
  track<T extends string>(counter: Counter<T>, labels?: LabelValues<T>): TrackedJob {
    if (labels !== undefined) counter.labels(labels);
    else counter.labels();
    const job = new Job<T>(this, counter, labels, this.nowMs());
    this.jobs.add(job as unknown as Job<string>);
    const key = counter as unknown as TracedCounter<string>;
    const hook = this.hooks.get(key);
    if (hook !== undefined) hook.jobs++;
    else
      this.hooks.set(key, {
        jobs: 1,
        remove: counter.addCollectHook(() => this.flushCounter(key)),
      });
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), this.intervalSeconds * 1000);
      this.timer.unref();
    }
    return job;
  }

  /**
   * Runs `fn` as a tracked job: its time is added while it runs and the job ends when `fn`
   * returns, throws, or (for a promise) settles. Returns what `fn` returns.
   */
  trace<T extends string, R>(
    counter: Counter<T>,
    labels: LabelValues<T> | undefined,
    fn: () => R,
  ): R {
    if (typeof fn !== 'function') {
      throw new InvalidOptionError(
        'PROMFORK_INVALID_OPTION',
        `trace(): expected a function to run, got ${describeValue(fn)}`,
      );
    }
    const job = this.track(counter, labels);
    let result: R;
    try {
      result = fn();
    } catch (error) {
      job.end();
      throw error;
    }
    if (isThenable(result)) {
      return Promise.resolve(result).finally(() => job.end()) as R;
    }
    job.end();
    return result;
  }

  /** Adds the elapsed time of every running job now. */
  flush(): void {
    for (const job of this.jobs) this.safely(() => job.flush());
  }

  /** @internal the tracer's clock, for its jobs. */
  nowMs(): number {
    return this.clock();
  }

  /** @internal called by a job when it ends. */
  release(job: Job<string>): void {
    this.jobs.delete(job);
    const hook = this.hooks.get(job.counter);
    if (hook !== undefined && --hook.jobs === 0) {
      hook.remove();
      this.hooks.delete(job.counter);
    }
    if (this.jobs.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private tick(): void {
    this.flush();
  }

  private flushCounter(counter: TracedCounter<string>): void {
    for (const job of this.jobs) {
      if (job.counter === counter) this.safely(() => job.flush());
    }
  }

  private safely(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.onError(error);
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

let defaultTracer: Tracer | undefined;

/** The tracer behind {@link trackDuration} and {@link trace} (1-second interval, real clock). */
export function getDefaultTracer(): Tracer {
  defaultTracer ??= new Tracer();
  return defaultTracer;
}

/**
 * Starts a long-running job whose elapsed seconds are added to `counter` while it runs (every
 * second, and whenever the counter is scraped) and whose remainder is added by `end()`:
 *
 * ```ts
 * const job = trackDuration(jobSeconds, { job: 'reindex' });
 * try { await reindex(); } finally { job.end(); }
 * ```
 */
export function trackDuration<T extends string>(
  counter: Counter<T>,
  labels?: LabelValues<T>,
): TrackedJob {
  return getDefaultTracer().track(counter, labels);
}

/**
 * Runs `fn` as a job tracked by {@link trackDuration}, ending it when `fn` returns, throws or
 * settles: `await trace(jobSeconds, { job: 'reindex' }, () => reindex())`.
 */
export function trace<T extends string, R>(
  counter: Counter<T>,
  labels: LabelValues<T> | undefined,
  fn: () => R,
): R {
  return getDefaultTracer().trace(counter, labels, fn);
}
