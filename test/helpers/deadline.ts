/**
 * Bounded waiting for the e2e tests: every wait has a deadline and fails with a message that
 * says what it was waiting for, never hangs the suite. These bound how long a test may wait;
 * they are not timing assertions.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Raised when a bounded wait runs out; the message names what never happened. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

/**
 * Calls `probe` every `intervalMs` until it returns a value other than undefined, and returns
 * that value. Throws DeadlineError after `timeoutMs`, including the last probe error if any.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError === undefined ? '' : ` (last error: ${String(lastError)})`;
      throw new DeadlineError(
        `timed out after ${options.timeoutMs} ms waiting for ${what}${detail}`,
      );
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** Rejects with DeadlineError if `promise` does not settle within `timeoutMs`. */
export async function withDeadline<T>(
  what: string,
  promise: Promise<T>,
  timeoutMs: number,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeadlineError(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
