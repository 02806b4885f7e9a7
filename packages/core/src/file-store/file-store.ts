/**
 * The multi-process Store: this process's metrics live in its own file (process-file.ts), and
 * `collect` merges every process's file in the directory (reader.ts, merge.ts).
 *
 * Besides the user's metrics, every process file carries the store's own counters
 * (`promfork_store_read_errors_total`, `promfork_store_write_errors_total`) so they sum across
 * processes like any counter; `collect` adds two gauges measured by the scraping process
 * (`promfork_store_files`, `promfork_scrape_duration_seconds`).
 *
 * Exemplars (`Store.exemplar`) go into exemplar entries of the process file (exemplar-entry.ts),
 * so that `collect` shows every live process's latest exemplar per series and bucket.
 */
import { isMainThread, threadId } from 'node:worker_threads';
import { describeValue, InvalidOptionError, PromforkError, StoreError } from '../errors.js';
import {
  type Cells,
  COUNTER_VALUE,
  type CollectedFamily,
  GAUGE_VALUE,
  type Store,
  seriesSize,
} from '../store.js';
import type { Exemplar, MetricDescriptor } from '../types.js';
import { assertOptionKeys } from '../validation.js';
import { conflictError, conflictKey, fileBornMs } from './definitions.js';
import { ensureDirectory, insecureDirectoryWarning } from './directory.js';
import { type DirectoryView, readDirectoryView } from './directory-view.js';
import {
  exemplarLabelText,
  exemplarSlotCount,
  MAX_EXEMPLAR_LABEL_BYTES,
  recordSizeFor,
} from './exemplar-entry.js';
import {
  ExpositionBudget,
  forgetExemplarsEstimate,
  MAX_EXPOSITION_BYTES,
  type OverBudget,
} from './exposition-budget.js';
import { FILE_FLAG_ARCHIVE, LEASE_RENEW_MS, sameDefinition, seriesKey } from './format.js';
import { currentIdentity, LivenessChecker, type LivenessOptions } from './identity.js';
import {
  findConflicts,
  type MergeConflict,
  mergeSources,
  type Source,
  type SourceFamily,
  type SourceSeries,
} from './merge.js';
import { MergeState, snapshotOf } from './merge-state.js';
import { defaultOnError, ProblemReporter } from './problems.js';
import { FileCells, flushSiblings, ProcessFile } from './process-file.js';
import { type ParsedFile, StoreFileReader } from './reader.js';
import { COMPACTION_ERRORS_METRIC, ScrapeCompactor } from './scrape-compaction.js';
import { TORN_OUTCOMES, type TornCounts } from './series-check.js';

/** Options of {@link FileStore}. */
export interface FileStoreOptions {
  /** Directory shared by every process of the server. Created (0700) if missing. */
  readonly dir: string;
  /**
   * Called with problems that must not throw into the caller (write failures, damaged files).
   * Each distinct problem is reported once; every occurrence is counted in the store's metrics.
   * @default writes one line to stderr per distinct problem
   */
  readonly onError?: (error: Error) => void;
  /**
   * Fold the files of dead writers (processes, and worker threads that ended) into the archive
   * when the store starts and at scrape time (bounded work per scrape; see compaction.ts).
   * Writers in other pid namespaces (other containers or hosts sharing the directory) are
   * judged by their lease, not by pid (see `leaseTimeoutSeconds`).
   * @default true
   */
  readonly compactDeadProcesses?: boolean;
  /**
   * Seconds after which a writer in another pid namespace (another container of the pod,
   * another host) that stopped renewing the lease in its file (every 10 s) is taken for dead:
   * its live-mode gauges disappear and compaction folds its file into the archive. Such a
   * writer's pid cannot be checked from here. A writer blocked for longer than this (a frozen
   * container, a debugger) is compacted while alive and its later counts are lost, so keep it
   * generous. At least 30 (three renewals). Writers in this pid namespace are judged by pid,
   * start time and thread, never by lease.
   * @default 300
   */
  readonly leaseTimeoutSeconds?: number;
  /**
   * Milliseconds a change may wait before it is written to this process's file (main thread;
   * worker threads keep writing when their synchronous code is done). 0, the default, writes
   * at the end of every event-loop turn with changes: a process killed at any instant (SIGKILL,
   * the OOM killer, a signal it does not handle) loses at most that turn. With N > 0 the first
   * change starts an N ms timer and one write carries every change made until it fires (one
   * system call per N ms instead of one per busy turn, which at one request per turn is most
   * of what the store adds to a request). The price, exactly: a process killed without running
   * its `exit` listeners loses every change made since its last write, up to N ms of them
   * (counts of requests it answered in that time included), and other processes' scrapes see
   * its values up to N ms late (a scrape by another store of the same thread writes them
   * first, so it sees them at once). A normal exit (`process.exit()`, the event loop running out,
   * a signal handler calling `process.exit()`) loses nothing: the exit hook writes them. At
   * most 10,000.
   * @default 0
   */
  readonly flushIntervalMs?: number;
  /**
   * Write this process's latest exemplars into its file, so that every process's scrape shows
   * them (FORMAT.md, "Entries"). `false` keeps them in this process only, as versions before
   * exemplar entries did: for a rolling upgrade from such a version, whose readers skip a file
   * that holds exemplar entries (FORMAT.md, "Compatibility").
   * @default true
   */
  readonly shareExemplars?: boolean;
}

/** Largest {@link FileStoreOptions.flushIntervalMs}. */
const MAX_FLUSH_INTERVAL_MS = 10_000;

/** Smallest {@link FileStoreOptions.leaseTimeoutSeconds}: three missed lease renewals. */
const MIN_LEASE_TIMEOUT_SECONDS = (3 * LEASE_RENEW_MS) / 1000;

/** Counter of files skipped at scrape time because they could not be read. */
export const READ_ERRORS_METRIC: MetricDescriptor = {
  name: 'promfork_store_read_errors_total',
  help: 'Store files skipped at scrape time because they were damaged, truncated or vanished.',
  type: 'counter',
  labelNames: [],
  buckets: [],
  mode: 'sum',
};

/** Counter of failed writes of process files. */
export const WRITE_ERRORS_METRIC: MetricDescriptor = {
  name: 'promfork_store_write_errors_total',
  help: 'Failed writes of metrics files (values are kept in memory and written later).',
  type: 'counter',
  labelNames: [],
  buckets: [],
  mode: 'sum',
};

/**
 * Counter of definition conflicts: a metric declared by some process incompatibly with its
 * newest definition (another type, label names or gauge mode; definitions.ts), whose older
 * series are therefore left out of scrapes and of the archive. Each conflict (a metric's older
 * definition against its newest, whichever files hold it) counts once in every process that
 * meets it, scraping or compacting, when it is reported.
 * Declared on the first conflict only, so healthy files carry no extra metric.
 */
export const CONFLICTS_METRIC: MetricDescriptor = {
  name: 'promfork_store_conflicts_total',
  help: 'Metric definitions left out because a newer process declared the metric incompatibly.',
  type: 'counter',
  labelNames: [],
  buckets: [],
  mode: 'sum',
};

/**
 * Counter of series of other processes whose read failed its check (it raced their writer's
 * flush), by what became of it (series-check.ts): `reread` (a re-read matched: shown
 * consistent), `previous` (still torn: this process's previous values of it shown), `skipped`
 * (still torn, no previous values: left out of that scrape), `as_read` (a file no longer
 * written whose check never matches: shown as read). Declared on the first torn read only.
 */
export const TORN_READS_METRIC: MetricDescriptor = {
  name: 'promfork_store_torn_reads_total',
  help: 'Series read while their writer was writing them, by outcome (reread, previous, skipped, as_read).',
  type: 'counter',
  labelNames: ['outcome'],
  buckets: [],
  mode: 'sum',
};

/**
 * Counter of other processes' exemplar entries left out of a scrape (exemplar-entry.ts), by
 * reason: `torn` (read while their writer was writing them; the next scrape shows them) and
 * `invalid` (no writer makes them: a damaged or planted entry). Only the exemplars are left
 * out, never the file's values. Declared on the first one only.
 */
export const EXEMPLARS_DROPPED_METRIC: MetricDescriptor = {
  name: 'promfork_store_exemplars_dropped_total',
  help: 'Exemplar entries of other processes left out of a scrape, by reason (torn, invalid).',
  type: 'counter',
  labelNames: ['reason'],
  buckets: [],
  mode: 'sum',
};

/** Gauge: store files read by the last scrape of the scraping process (its own included). */
export const FILES_METRIC: MetricDescriptor = {
  name: 'promfork_store_files',
  help: 'Store files merged by this scrape, the scraping process own file included.',
  type: 'gauge',
  labelNames: [],
  buckets: [],
  mode: 'mostrecent',
};

/**
 * Gauge: seconds the scraping process spent reading and merging the files of this scrape. A
 * gauge rather than a histogram: only one process answers a scrape, and a per-process
 * histogram of scrape times would mix the workers that happened to serve them.
 */
export const SCRAPE_DURATION_METRIC: MetricDescriptor = {
  name: 'promfork_scrape_duration_seconds',
  help: 'Seconds this scrape spent reading and merging the multi-process store files.',
  type: 'gauge',
  labelNames: [],
  buckets: [],
  mode: 'mostrecent',
};

/**
 * A series of this process; also its own SourceSeries at collect time. `offset` and `start`
 * change when the file is rewritten ({@link FileStore.entriesMoved}).
 */
interface LocalSeries extends SourceSeries {
  readonly cells: FileCells;
  /** Byte offset of the series entry (to mark it removed). */
  offset: number;
  start: number;
  /** The series' exemplar entry, once it recorded an exemplar. */
  exemplars?: LocalExemplars;
}

/** A series' exemplar entry in this process's file (exemplar-entry.ts). */
interface LocalExemplars {
  /** Byte offset of the entry (changes when the file is rewritten). */
  offset: number;
  /** Bytes per record: a longer label text moves the records to a new entry. */
  readonly recordSize: number;
  /** The latest exemplar per slot, as in the entry. */
  readonly latest: (Exemplar | undefined)[];
}

interface LocalMetric {
  readonly descriptor: MetricDescriptor;
  /** Byte offset of the descriptor entry (changes when the file is rewritten). */
  offset: number;
  readonly size: number;
  readonly series: Map<string, LocalSeries>;
}

const OPTION_KEYS: readonly string[] = [
  'dir',
  'onError',
  'compactDeadProcesses',
  'leaseTimeoutSeconds',
  'flushIntervalMs',
  'shareExemplars',
];

function validateOptions(options: unknown): FileStoreOptions {
  assertOptionKeys(options, OPTION_KEYS, 'new FileStore()');
  const {
    dir,
    onError,
    compactDeadProcesses,
    leaseTimeoutSeconds,
    flushIntervalMs,
    shareExemplars,
  } = options;
  if (dir === undefined) {
    throw new InvalidOptionError(
      'PROMFORK_MISSING_OPTION',
      'FileStore needs option "dir": the directory shared by all processes',
    );
  }
  if (typeof dir !== 'string' || dir === '') {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `FileStore option "dir" must be a non-empty string, got ${describeValue(dir)}`,
    );
  }
  if (onError !== undefined && typeof onError !== 'function') {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `FileStore option "onError" must be a function, got ${describeValue(onError)}`,
    );
  }
  if (shareExemplars !== undefined && typeof shareExemplars !== 'boolean') {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `FileStore option "shareExemplars" must be a boolean, got ${describeValue(shareExemplars)}`,
    );
  }
  if (compactDeadProcesses !== undefined && typeof compactDeadProcesses !== 'boolean') {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `FileStore option "compactDeadProcesses" must be a boolean, got ${describeValue(compactDeadProcesses)}`,
    );
  }
  if (
    leaseTimeoutSeconds !== undefined &&
    (typeof leaseTimeoutSeconds !== 'number' ||
      !Number.isFinite(leaseTimeoutSeconds) ||
      leaseTimeoutSeconds < MIN_LEASE_TIMEOUT_SECONDS)
  ) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `FileStore option "leaseTimeoutSeconds" must be a finite number of at least ` +
        `${MIN_LEASE_TIMEOUT_SECONDS}, got ${describeValue(leaseTimeoutSeconds)}`,
    );
  }
  if (
    flushIntervalMs !== undefined &&
    (typeof flushIntervalMs !== 'number' ||
      !Number.isFinite(flushIntervalMs) ||
      flushIntervalMs < 0 ||
      flushIntervalMs > MAX_FLUSH_INTERVAL_MS)
  ) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `FileStore option "flushIntervalMs" must be a number from 0 to ${MAX_FLUSH_INTERVAL_MS}, ` +
        `got ${describeValue(flushIntervalMs)}`,
    );
  }
  return options as unknown as FileStoreOptions;
}

/** Keeps this process's metrics in its own file in `dir` and merges every file on collect. */
export class FileStore implements Store {
  readonly kind = 'file';
  /** Families are keyed by name in the file (see Store.sharesSeriesByName). */
  readonly sharesSeriesByName = true;
  /** Absolute path of the shared directory. */
  readonly dir: string;

  private readonly file: ProcessFile;
  private readonly pid = String(process.pid);
  /** The `thread` label of this writer's per-writer gauges; undefined on a main thread. */
  private readonly thread = isMainThread ? undefined : String(threadId);
  /** How this store's scrapes and compactions judge writers (the lease timeout). */
  private readonly liveness: LivenessOptions;
  private readonly metrics = new Map<string, LocalMetric>();
  private readonly reporter: ProblemReporter;
  private readonly reader = new StoreFileReader();
  /** The merged series kept between scrapes, refilled in place by each (merge-state.ts). */
  private readonly merged = new MergeState();
  private readonly readErrors: Cells;
  private readonly writeErrors: Cells;
  /** Problem keys of write failures reported since the last successful flush. */
  private readonly writeKeys = new Set<string>();
  /** Whether exemplars go into the file (the `shareExemplars` option). */
  private readonly shareExemplars: boolean;
  /** Folds dead processes' files into the archive (undefined when turned off). */
  private readonly compactor: ScrapeCompactor | undefined;

  /**
   * Creates the directory if needed and this process's file in it. Throws InvalidOptionError
   * for bad options and StoreError (PROMFORK_DIRECTORY_UNUSABLE) when the directory cannot
   * be used.
   */
  constructor(options: FileStoreOptions) {
    const settings = validateOptions(options);
    this.shareExemplars = settings.shareExemplars ?? true;
    this.liveness =
      settings.leaseTimeoutSeconds === undefined
        ? {}
        : { leaseTimeoutMs: settings.leaseTimeoutSeconds * 1000 };
    this.reporter = new ProblemReporter(settings.onError ?? defaultOnError);
    this.dir = ensureDirectory(settings.dir);
    const insecure = insecureDirectoryWarning(this.dir);
    if (insecure !== undefined) this.reporter.report('directory-insecure', insecure);
    this.file = ProcessFile.create(this.dir, currentIdentity(), {
      failed: (error) => {
        // The write-error counter lives in the same image; counting it does not schedule a
        // flush while a retry is pending (ProcessFile keeps `scheduled` set), so no loop.
        this.writeErrors.add(COUNTER_VALUE, 1);
        const key = `write:${codeOf(error)}`;
        this.writeKeys.add(key);
        this.reporter.report(key, error);
      },
      recovered: () => {
        // Report the next failure again: it is a new incident.
        for (const key of this.writeKeys) this.reporter.clear(key);
        this.writeKeys.clear();
      },
      afterClose: () => {
        this.reporter.report(
          'closed',
          new StoreError(
            'PROMFORK_STORE_CLOSED',
            `A metric was updated after the FileStore for ${describeValue(this.dir)} was closed; ` +
              'the value is kept in memory only',
          ),
        );
      },
      moved: (moves) => this.entriesMoved(moves),
    });
    if (settings.flushIntervalMs !== undefined)
      this.file.flushIntervalMs = settings.flushIntervalMs;
    this.readErrors = this.series(READ_ERRORS_METRIC, []);
    this.writeErrors = this.series(WRITE_ERRORS_METRIC, []);
    this.compactor =
      settings.compactDeadProcesses === false
        ? undefined
        : new ScrapeCompactor(
            this.dir,
            this.file.name,
            this.reporter,
            // Declared on the first failure only, so healthy files carry no extra metric.
            () => this.series(COMPACTION_ERRORS_METRIC, []).add(COUNTER_VALUE, 1),
            () => this.countConflict(),
          );
    this.compactor?.run(new LivenessChecker(this.liveness));
  }

  /** Name of this process's file inside {@link dir}. */
  get fileName(): string {
    return this.file.name;
  }

  declare(descriptor: MetricDescriptor): void {
    const existing = this.metrics.get(descriptor.name);
    if (existing !== undefined) {
      if (sameDefinition(existing.descriptor, descriptor)) {
        return;
      }
      this.forget(existing.descriptor);
    }
    const offset = this.file.appendDescriptor(descriptor);
    this.metrics.set(descriptor.name, {
      descriptor,
      offset,
      size: seriesSize(descriptor),
      series: new Map(),
    });
  }

  series(descriptor: MetricDescriptor, labelValues: readonly string[]): Cells {
    let metric = this.metrics.get(descriptor.name);
    if (metric === undefined || !sameDefinition(metric.descriptor, descriptor)) {
      this.declare(descriptor);
      metric = this.metrics.get(descriptor.name)!;
    }
    const key = seriesKey(labelValues);
    const found = metric.series.get(key);
    if (found !== undefined) return found.cells;
    const values = labelValues.slice();
    const { offset, word } = this.file.appendSeries(metric.offset, values, metric.size);
    const cells = new FileCells(this.file, word, metric.size);
    metric.series.set(key, { labelValues: values, key, start: word, cells, offset });
    return cells;
  }

  remove(descriptor: MetricDescriptor, labelValues: readonly string[]): void {
    const metric = this.metrics.get(descriptor.name);
    if (metric === undefined) return;
    const key = seriesKey(labelValues);
    const series = metric.series.get(key);
    if (series === undefined) return;
    this.dropSeries(series);
    metric.series.delete(key);
  }

  reset(descriptor: MetricDescriptor): void {
    const metric = this.metrics.get(descriptor.name);
    if (metric === undefined) return;
    for (const series of metric.series.values()) this.dropSeries(series);
    metric.series.clear();
  }

  /**
   * Writes `exemplar`, the latest of slot `slot` of a series (metric.ts keeps it on the child
   * too), into this process's file, so every process's scrape shows it. The first exemplar of
   * a series appends its exemplar entry; a label text longer than the entry's records take
   * moves them to a new entry. Called only with an exemplar: updates without one never come
   * here. Never throws (a full file is reported and counted like a failed write). Does nothing
   * with `shareExemplars: false`.
   */
  exemplar(
    descriptor: MetricDescriptor,
    labelValues: readonly string[],
    slot: number,
    exemplar: Exemplar,
  ): void {
    if (!this.shareExemplars) return;
    const metric = this.metrics.get(descriptor.name);
    const series = metric?.series.get(seriesKey(labelValues));
    const count = exemplarSlotCount(descriptor);
    if (series === undefined || slot < 0 || slot >= count) return;
    const labels = exemplarLabelText(exemplar);
    // makeExemplar bounds the text far below this; a hand-built Exemplar is not stored.
    if (labels.length > MAX_EXEMPLAR_LABEL_BYTES) return;
    try {
      let entry = series.exemplars;
      const needed = recordSizeFor(labels.length);
      if (entry === undefined || entry.recordSize < needed) {
        const latest = entry?.latest ?? new Array<Exemplar | undefined>(count).fill(undefined);
        const recordSize = Math.max(needed, entry?.recordSize ?? 0);
        const offset = this.file.appendExemplars(series.offset, count, recordSize);
        if (entry !== undefined) this.file.markRemoved(entry.offset);
        entry = { offset, recordSize, latest };
        series.exemplars = entry;
        latest.forEach((kept, i) => {
          if (kept !== undefined && i !== slot) {
            this.file.writeExemplar(offset, i, kept, exemplarLabelText(kept));
          }
        });
      }
      entry.latest[slot] = exemplar;
      this.file.writeExemplar(entry.offset, slot, exemplar, labels);
    } catch (error) {
      this.writeErrors.add(COUNTER_VALUE, 1);
      this.reporter.report(`exemplar:${codeOf(error)}`, error as Error);
    }
  }

  /** Flags a series of this process removed, with its exemplars. */
  private dropSeries(series: LocalSeries): void {
    this.file.markRemoved(series.offset);
    if (series.exemplars !== undefined) this.file.markRemoved(series.exemplars.offset);
  }

  forget(descriptor: MetricDescriptor): void {
    const metric = this.metrics.get(descriptor.name);
    if (metric === undefined) return;
    this.reset(metric.descriptor);
    this.file.markRemoved(metric.offset);
    this.metrics.delete(descriptor.name);
  }

  collect(filter?: (name: string) => boolean): CollectedFamily[] {
    return snapshotOf(this.collectForScrape(filter));
  }

  /** See {@link Store.collectForScrape}: the merged series kept between scrapes, as they are. */
  collectForScrape(filter?: (name: string) => boolean): CollectedFamily[] {
    const started = performance.now();
    const accept = filter ?? (() => true);
    const sources: Source[] = [];
    const liveness = new LivenessChecker(this.liveness);
    let view: DirectoryView | undefined;
    flushSiblings(this.dir, this.file);
    try {
      view = readDirectoryView(this.dir, this.reader, this.file.name);
      // Dead processes' files are folded into the archive before they are merged, so a scrape
      // right after a compaction shows what the one before it did.
      if (
        this.compactor !== undefined &&
        view.files.some((f) => !isArchive(f) && !liveness.isAlive(f.header)) &&
        this.compactor.run(liveness)
      ) {
        view = readDirectoryView(this.dir, this.reader, this.file.name);
      }
    } catch (error) {
      this.readErrors.add(COUNTER_VALUE, 1);
      this.reporter.report(
        'list',
        new StoreError(
          'PROMFORK_DIRECTORY_UNUSABLE',
          `Cannot list the multi-process directory ${describeValue(this.dir)} ` +
            `(${codeOf(error)}); only this process's metrics are reported`,
          { cause: error },
        ),
      );
    }
    for (const { name, problem } of view?.problems ?? []) {
      this.readErrors.add(COUNTER_VALUE, 1);
      this.reporter.report(
        `read:${name}:${problem.kind}`,
        new StoreError(
          'PROMFORK_FILE_UNREADABLE',
          `Skipped the metrics file ${describeValue(name)} in ${describeValue(this.dir)}: ` +
            `${problem.message}`,
        ),
      );
    }
    for (const parsed of view?.files ?? []) {
      this.countTorn(parsed.torn);
      const dropped = parsed.droppedExemplars;
      if (dropped !== undefined) {
        for (const reason of ['torn', 'invalid'] as const) {
          const n = dropped[reason];
          if (n > 0) this.series(EXEMPLARS_DROPPED_METRIC, [reason]).add(COUNTER_VALUE, n);
        }
      }
      const archive = isArchive(parsed);
      const { pid, threadId: thread } = parsed.header;
      sources.push({
        file: parsed.name,
        pid: archive ? 'archive' : String(pid),
        ...(archive || thread === 0 ? {} : { thread: String(thread) }),
        live: !archive && liveness.isAlive(parsed.header),
        bornMs: fileBornMs(parsed.header),
        families: parsed.families,
      });
    }
    this.reader.retain(view?.names ?? new Set());
    // Live processes before dead ones and archives (a stable sort keeps name order within
    // each group): where two files share a pid after pid reuse, an `all` gauge shows the live
    // process's value. Own values are taken last (they include this scrape's read errors) and
    // merged first (it wins ties of `mostrecent` gauges). Definitions do not depend on this
    // order: the newest wins (definitions.ts), so every worker answers a scrape alike.
    sources.sort((a, b) => Number(b.live) - Number(a.live));
    sources.unshift(this.ownSource());
    // Conflicts are counted before merging, so that this scrape's own values include them.
    const conflicts = findConflicts(sources, accept);
    for (const conflict of conflicts) this.reportConflict(conflict);
    if (conflicts.length > 0) sources[0] = this.ownSource(); // The counter may be new.
    const budget = new ExpositionBudget(sources[0]!);
    const families = mergeSources(
      sources,
      accept,
      Date.now(),
      {
        budget,
        conflict: () => {}, // Reported and counted above.
        failed: (file, error) => {
          this.readErrors.add(COUNTER_VALUE, 1);
          this.reporter.report(
            `merge:${file}`,
            new StoreError(
              'PROMFORK_FILE_UNREADABLE',
              `Skipped part of the metrics file ${describeValue(file)} in ` +
                `${describeValue(this.dir)}: merging it failed (${String(error)})`,
              { cause: error },
            ),
          );
        },
      },
      this.merged,
    );
    this.reportOverBudget(budget.skipped, families);
    // The store's own families go last, after the user's.
    const ordered: CollectedFamily[] = families.filter((f) => !isSelfMetric(f.descriptor.name));
    for (const f of families) if (isSelfMetric(f.descriptor.name)) ordered.push(f);
    const seconds = (performance.now() - started) / 1000;
    if (accept(FILES_METRIC.name)) ordered.push(gaugeFamily(FILES_METRIC, sources.length));
    if (accept(SCRAPE_DURATION_METRIC.name)) {
      ordered.push(gaugeFamily(SCRAPE_DURATION_METRIC, seconds));
    }
    return ordered;
  }

  flush(): void {
    this.file.flush();
  }

  close(): void {
    this.file.close();
  }

  /**
   * This process's metrics, read straight from the in-memory image (always current; merging
   * copies, so no snapshot is needed here).
   */
  private ownSource(): Source {
    const families: SourceFamily[] = [];
    for (const metric of this.metrics.values()) {
      // Slot indices of a series never change; only the image may have been replaced (grown).
      const series = [...metric.series.values()];
      const starts = new Array<number>(series.length);
      let exemplars: Map<number, readonly (Exemplar | undefined)[]> | undefined;
      for (let i = 0; i < series.length; i++) {
        const s = series[i] as LocalSeries;
        starts[i] = s.start;
        if (s.exemplars === undefined) continue;
        exemplars ??= new Map();
        // The list changes in place when an exemplar is recorded: the budget estimates it again
        // at each scrape (here, not at every exemplar written on a request's path).
        forgetExemplarsEstimate(s.exemplars.latest);
        exemplars.set(i, s.exemplars.latest);
      }
      families.push({
        descriptor: metric.descriptor,
        data: this.file.f64,
        series,
        starts,
        ...(exemplars === undefined ? {} : { exemplars }),
      });
    }
    return {
      file: this.file.name,
      pid: this.pid,
      ...(this.thread === undefined ? {} : { thread: this.thread }),
      live: true,
      bornMs: this.file.createdMs,
      families,
    };
  }

  /** Counts a file's torn series reads (normal under concurrent writes: never reported). */
  private countTorn(torn: TornCounts | undefined): void {
    if (torn === undefined) return;
    for (const outcome of TORN_OUTCOMES) {
      const n = torn[outcome];
      if (n > 0) this.series(TORN_READS_METRIC, [outcome]).add(COUNTER_VALUE, n);
    }
  }

  /**
   * Reports and counts the files the exposition budget left out. They are found while merging,
   * after this process's own values (which hold the read-error counter) were taken, so the
   * merged counter gets them too: the scrape that skipped them shows them.
   */
  private reportOverBudget(skipped: readonly OverBudget[], families: CollectedFamily[]): void {
    if (skipped.length === 0) return;
    const merged = families.find((f) => f.descriptor.name === READ_ERRORS_METRIC.name);
    const cells = merged?.series[0]?.cells as Float64Array | undefined;
    for (const { file, estimate, spent } of skipped) {
      this.readErrors.add(COUNTER_VALUE, 1);
      if (cells !== undefined) cells[COUNTER_VALUE] = (cells[COUNTER_VALUE] ?? 0) + 1;
      this.reporter.report(
        `budget:${file}`,
        new StoreError(
          'PROMFORK_FILE_UNREADABLE',
          `Skipped the metrics file ${describeValue(file)} in ${describeValue(this.dir)}: its ` +
            `series would render about ${estimate} more characters, past the scrape's limit of ` +
            `${MAX_EXPOSITION_BYTES} (about ${spent} merged before it)`,
        ),
      );
    }
  }

  /**
   * Follows a rewrite of this process's file (process-file.ts): every entry this store still
   * refers to was kept (only removed ones are dropped), at the offset `moves` gives.
   */
  private entriesMoved(moves: ReadonlyMap<number, number>): void {
    for (const metric of this.metrics.values()) {
      metric.offset = moves.get(metric.offset) ?? metric.offset;
      for (const series of metric.series.values()) {
        const to = moves.get(series.offset) ?? series.offset;
        series.start += (to - series.offset) / 8;
        series.offset = to;
        if (series.exemplars !== undefined) {
          series.exemplars.offset = moves.get(series.exemplars.offset) ?? series.exemplars.offset;
        }
      }
    }
  }

  /** Reports a conflict once and counts it then (a compaction reports it under the same key). */
  private reportConflict(conflict: MergeConflict): void {
    if (this.reporter.report(conflictKey(conflict), conflictError(this.dir, conflict))) {
      this.countConflict();
    }
  }

  private countConflict(): void {
    this.series(CONFLICTS_METRIC, []).add(COUNTER_VALUE, 1);
  }
}

function isSelfMetric(name: string): boolean {
  return (
    name === READ_ERRORS_METRIC.name ||
    name === WRITE_ERRORS_METRIC.name ||
    name === COMPACTION_ERRORS_METRIC.name ||
    name === CONFLICTS_METRIC.name ||
    name === TORN_READS_METRIC.name ||
    name === EXEMPLARS_DROPPED_METRIC.name
  );
}

function isArchive(file: ParsedFile): boolean {
  return (file.header.flags & FILE_FLAG_ARCHIVE) !== 0;
}

function gaugeFamily(descriptor: MetricDescriptor, value: number): CollectedFamily {
  const cells = new Float64Array(seriesSize(descriptor));
  cells[GAUGE_VALUE] = value;
  return { descriptor, series: [{ labelValues: [], cells }] };
}

/**
 * The errno code (ENOENT, EIO, ...) of a failed system call, or of the failure one of our own
 * errors wraps; `unknown` when there is none.
 */
function codeOf(error: unknown): string {
  if (error instanceof PromforkError) {
    return error.cause === undefined ? 'unknown' : codeOf(error.cause);
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'unknown';
}
