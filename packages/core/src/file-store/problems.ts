/**
 * Problems the file store must report without throwing (write failures, damaged files): each
 * distinct problem reaches `onError` once, however often it recurs, so a full disk or a
 * damaged file does not flood the log on every update or scrape. Counting is separate
 * (the store's self-metrics count every occurrence).
 */

/** Reports each distinct problem once to a user hook. */
export class ProblemReporter {
  private readonly seen = new Set<string>();

  constructor(private readonly onError: (error: Error) => void) {}

  /**
   * Reports `error` unless a problem with the same `key` was already reported; true when it was
   * reported now (a first occurrence). The hook must not break the store: an exception it
   * throws is swallowed.
   */
  report(key: string, error: Error): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    try {
      this.onError(error);
    } catch {
      // A failing error hook cannot be reported anywhere better; never let it reach a caller.
    }
    return true;
  }

  /** Forgets `key` so that the problem is reported again if it comes back (after a recovery). */
  clear(key: string): void {
    this.seen.delete(key);
  }
}

/** The default hook: one line on stderr. */
export function defaultOnError(error: Error): void {
  process.stderr.write(`promfork: ${error.message}\n`);
}
