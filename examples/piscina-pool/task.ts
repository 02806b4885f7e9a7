/**
 * The Piscina task of the example: a deliberately slow Fibonacci. Its metrics are ordinary
 * promfork metrics, created once per thread when the pool loads this module; the store comes
 * from PROMETHEUS_MULTIPROC_DIR, which the thread inherited from the server.
 */
import { Counter, Gauge, Histogram } from '@promfork/core';

const tasks = new Counter({ name: 'pool_tasks_total', help: 'Tasks run by the pool.' });
const seconds = new Histogram({
  name: 'pool_task_duration_seconds',
  help: 'Time one task took in its thread.',
  buckets: [0.001, 0.01, 0.1, 1],
});
// livesum: threads that ended no longer count (a thread's gauge is gone with it).
const busy = new Gauge({
  name: 'pool_busy_threads',
  help: 'Pool threads running a task now.',
  multiprocessMode: 'livesum',
});
// liveall: one series per live thread, labelled with its pid and thread (the Node threadId).
const perThread = new Gauge({
  name: 'pool_thread_tasks',
  help: 'Tasks run by each live pool thread.',
  multiprocessMode: 'liveall',
});

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** Computes fib(n), recording the task. */
export default function task({ n }: { n: number }): number {
  busy.inc();
  const end = seconds.startTimer();
  try {
    return fib(n);
  } finally {
    end();
    tasks.inc();
    perThread.inc();
    busy.dec();
  }
}
