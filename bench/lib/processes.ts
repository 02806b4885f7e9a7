/**
 * Forked helper processes for the benchmarks: started with a bounded wait for their `ready`
 * message, and always stopped (SIGKILL as a last resort) before a scenario returns.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Absolute path of a compiled worker script under bench/dist/workers/. */
export function workerScript(name: string): string {
  return fileURLToPath(new URL(`../workers/${name}.js`, import.meta.url));
}

/**
 * Forks `script` with `args` (and `env`, default this process's) and resolves once it sends
 * `{ ready: true }`.
 */
export function forkReady(
  script: string,
  args: readonly string[],
  timeoutMs: number,
  env?: NodeJS.ProcessEnv,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [...args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      ...(env === undefined ? {} : { env }),
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited before it was ready (${signal ?? `code ${code}`})`));
    });
    child.on('message', (message: unknown) => {
      if ((message as { ready?: boolean } | null)?.ready === true) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(child);
      }
    });
  });
}

/** Runs `script` to completion (a short-lived worker); rejects on a non-zero exit or timeout. */
export function runToExit(
  script: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${script} failed (${signal ?? `code ${code}`})`));
    });
  });
}

/**
 * Runs `script` with `args` until it sends its first message, which this resolves with; rejects
 * when it exits first or takes longer than `timeoutMs` (then it is killed).
 */
export function runForMessage(
  script: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} sent nothing within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited before it answered (${signal ?? `code ${code}`})`));
    });
    child.once('message', (message: unknown) => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.once('exit', () => {});
      resolve(message);
    });
  });
}

/** Stops children: SIGTERM, then SIGKILL for any still running after `graceMs`. */
export async function stopAll(children: readonly ChildProcess[], graceMs = 2000): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            resolve();
            return;
          }
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}
