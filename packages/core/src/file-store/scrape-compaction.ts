/**
 * Compaction run by the store itself, for process managers that run no code of ours in the
 * primary (PM2 cluster mode): every FileStore compacts dead processes' files when it starts,
 * and a scrape that finds one compacts before it merges. Bounded (at most
 * {@link SCRAPE_COMPACTION_MAX_FILES} files per run, the rest wait for the next scrape and count
 * from their own files meanwhile), non-blocking (a busy lock means another process is on it),
 * and never throwing: failures are reported once and counted.
 */
import { StoreError } from '../errors.js';
import type { MetricDescriptor } from '../types.js';
import { compactDirectory } from './compaction.js';
import type { LivenessChecker } from './identity.js';
import type { ProblemReporter } from './problems.js';

/** Most dead processes' files one store start or scrape folds into the archive. */
export const SCRAPE_COMPACTION_MAX_FILES = 64;

/** Counter of compactions that failed inside a store (start or scrape). */
export const COMPACTION_ERRORS_METRIC: MetricDescriptor = {
  name: 'promfork_store_compaction_errors_total',
  help: 'Compactions of dead processes files that failed (the files stay in place and still count).',
  type: 'counter',
  labelNames: [],
  buckets: [],
  mode: 'sum',
};

/** Runs bounded compactions on behalf of one FileStore. */
export class ScrapeCompactor {
  private readonly keep: ReadonlySet<string>;

  constructor(
    private readonly dir: string,
    ownFile: string,
    private readonly reporter: ProblemReporter,
    /** Counts a failure (the store creates its counter series on the first one). */
    private readonly countError: () => void,
    /** Counts a definition conflict met for the first time (definitions.ts). */
    private readonly countConflict: () => void,
  ) {
    this.keep = new Set([ownFile]);
  }

  /** Compacts once; true when files were absorbed or removed (the directory changed). */
  run(liveness: LivenessChecker): boolean {
    try {
      const result = compactDirectory(this.dir, {
        keep: this.keep,
        maxFiles: SCRAPE_COMPACTION_MAX_FILES,
        liveness,
        onProblem: (key, error) => {
          // Keyed like a scrape's report of the same conflict: one conflict, one count.
          const first = this.reporter.report(key, error);
          if (first && (error as StoreError).code === 'PROMFORK_METRIC_CONFLICT') {
            this.countConflict();
          }
        },
      });
      if (!result.busy) this.reporter.clear('compaction-failed');
      return result.absorbed.length > 0 || result.removed.length > 0;
    } catch (error) {
      this.countError();
      this.reporter.report(
        'compaction-failed',
        error instanceof StoreError
          ? error
          : new StoreError(
              'PROMFORK_COMPACTION_FAILED',
              `Compacting dead processes' files failed (${String(error)}); they stay in place ` +
                'and still count',
              { cause: error },
            ),
      );
      return false;
    }
  }
}
