/**
 * Who wrote a file, and whether that writer is still alive.
 *
 * A writer is a process, or a worker thread of one (worker_threads; every thread that records
 * metrics has its own store and file). A pid alone is not an identity: pids are reused, and a
 * file left by a dead worker must not be taken for the file of the unrelated process that later
 * got the same pid (its live-mode gauges would reappear, and two processes' numbers would be
 * merged as one). So a file records the pid and the process start time in clock ticks since
 * boot (`/proc/<pid>/stat` field 22, Linux), and for a worker thread also its Node `threadId`,
 * its OS thread id (tid) and that thread's start time (`/proc/<pid>/task/<tid>/stat`).
 *
 * - A process is alive when the pid exists, is not a zombie, and has the same start time.
 * - A worker thread is alive when its process is, and the task `<tid>` of that process exists,
 *   is not a zombie and has the recorded start time. The task is gone as soon as the thread
 *   ended (normally, by `process.exit` in it, or by `worker.terminate()`), so the process that
 *   runs a pool, or any other, can tell its ended threads from its running ones.
 * - Pids and tids mean something only within one pid namespace and one kernel. A file written
 *   in another one (another container of the pod sharing the volume, another host) is never
 *   judged by pid: its writer renews a lease in the header every 10 s (`LEASE_RENEW_MS`), and it
 *   is dead only when the lease is older than the lease timeout (default
 *   {@link DEFAULT_LEASE_TIMEOUT_MS}). Hazard: a writer whose event loop is blocked for longer
 *   than that (or whose clock is that far behind ours) is taken for dead and compacted while it
 *   runs; what it records afterwards goes to an unlinked file and is not counted.
 *
 * Where /proc is unavailable the start times, tids and namespaces are 0 and only the pid can be
 * checked (threads then count as alive while their process is); the random token in the
 * header still keeps files apart.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { isMainThread, threadId } from 'node:worker_threads';
import type { WriterIdentity } from './format.js';

/**
 * Default age after which the lease of a writer in another pid namespace is taken as expired.
 * Five minutes is 30 missed renewals: far beyond an event loop blocked by a long synchronous
 * task, a garbage collection or a CPU-throttled container, while a crashed writer's live-mode
 * gauges and files still go away within minutes.
 */
export const DEFAULT_LEASE_TIMEOUT_MS = 300_000;

/** Process state and start time parsed from `/proc/<pid>/stat`. */
export interface ProcStat {
  /** Field 3: R, S, D, Z (zombie), X (dead), ... */
  readonly state: string;
  /** Field 22: start time in clock ticks since boot. */
  readonly startTime: number;
}

/**
 * Parses the content of a `/proc/<pid>/stat` file. Field 2 (the command name) is in parentheses
 * and may itself contain spaces and parentheses, so fields are counted from the LAST `)`.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ") " come fields 3, 4, ...; field 22 is at index 22 - 3.
  const fields = text.slice(close + 2).split(' ');
  const state = fields[0];
  const startTime = Number(fields[22 - 3]);
  if (state === undefined || state === '' || !Number.isSafeInteger(startTime) || startTime <= 0) {
    return undefined;
  }
  return { state, startTime };
}

/** Reads `/proc/<pid>/stat`; undefined when the process does not exist or /proc is unavailable. */
export function readProcStat(pid: number): ProcStat | undefined {
  return readStatFile(`/proc/${pid}/stat`);
}

/** Reads `/proc/<pid>/task/<tid>/stat`; undefined when the thread does not exist. */
function readTaskStat(pid: number, tid: number): ProcStat | undefined {
  return readStatFile(`/proc/${pid}/task/${tid}/stat`);
}

/** Parses a `stat` file of /proc (same layout for processes and threads). */
function readStatFile(path: string): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(path, 'latin1'));
  } catch {
    return undefined;
  }
}

/** True when `/proc` describes processes on this system (Linux). */
function hasProcfs(): boolean {
  return readProcStat(process.pid) !== undefined;
}

/** A fresh identity for a file written by the calling thread (a random token every call). */
export function currentIdentity(): WriterIdentity {
  const stat = readProcStat(process.pid);
  const thread = isMainThread ? undefined : readThreadSelf();
  const system = systemIdentity();
  return {
    pid: process.pid,
    startTime: stat?.startTime ?? 0,
    token: randomBytes(16).toString('hex'),
    threadId: isMainThread ? 0 : threadId,
    tid: thread?.tid ?? 0,
    tidStartTime: thread?.startTime ?? 0,
    pidNamespace: system.pidNamespace,
    bootId: system.bootId,
  };
}

/** The calling worker thread's OS thread id and its start time (`/proc/thread-self`). */
function readThreadSelf(): { tid: number; startTime: number } | undefined {
  try {
    // `<pid>/task/<tid>`: the tid of the thread that makes the call.
    const match = /\/task\/([1-9][0-9]*)$/.exec(readlinkSync('/proc/thread-self'));
    if (match === null) return undefined;
    const tid = Number(match[1]);
    const stat = readTaskStat(process.pid, tid);
    return stat === undefined ? undefined : { tid, startTime: stat.startTime };
  } catch {
    return undefined;
  }
}

/** Where pids mean what they say: the pid namespace and the kernel (boot) of this process. */
interface SystemIdentity {
  readonly pidNamespace: number;
  readonly bootId: string;
}

/**
 * Memo of {@link systemIdentity}: neither changes while a process runs (a process cannot move
 * to another pid namespace; `setns` affects its children only), so it is read once per thread.
 */
let systemMemo: SystemIdentity | undefined;

/** This process's pid namespace inode and boot id (0 and '' where /proc does not tell). */
function systemIdentity(): SystemIdentity {
  systemMemo ??= { pidNamespace: readPidNamespace(), bootId: readBootId() };
  return systemMemo;
}

/** Parses the target of `/proc/self/ns/pid`, `pid:[4026531836]`; 0 when unknown. */
export function parsePidNamespace(link: string): number {
  const match = /^pid:\[([1-9][0-9]*)\]$/.exec(link);
  const inode = match === null ? 0 : Number(match[1]);
  return Number.isSafeInteger(inode) ? inode : 0;
}

function readPidNamespace(): number {
  try {
    return parsePidNamespace(readlinkSync('/proc/self/ns/pid'));
  } catch {
    return 0;
  }
}

/** The boot id as 32 hex digits: the same for every container on one kernel boot. */
function readBootId(): string {
  try {
    const text = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim().replace(/-/g, '');
    return /^[0-9a-f]{32}$/.test(text) ? text : '';
  } catch {
    return '';
  }
}

/** What liveness is judged from: a file's header, or a compaction lock's holder record. */
export type LivenessSubject = Pick<WriterIdentity, 'pid' | 'startTime'> &
  Partial<Pick<WriterIdentity, 'tid' | 'tidStartTime' | 'pidNamespace' | 'bootId'>> & {
    /** Last renewal, ms since the epoch (only used for writers in another pid namespace). */
    readonly leaseMs?: number;
  };

/** Options of {@link LivenessChecker}. */
export interface LivenessOptions {
  /**
   * Age in ms after which the lease of a writer in another pid namespace has expired.
   * @default DEFAULT_LEASE_TIMEOUT_MS
   */
  readonly leaseTimeoutMs?: number;
}

/**
 * Answers "is the writer of this file still alive?" for the files of one scrape (see the module
 * comment for the rules). Process and thread answers are memoised for the checker's lifetime:
 * create one per scrape.
 *
 * A "dead" answer is final (a process or thread found dead writes nothing more; a lease found
 * expired is the documented exception), while an "alive" one may be out of date by the time it
 * is used. So code that folds a dead writer's file into the archive asks first and reads the
 * file only after a "dead" answer (compaction.ts): read before, the content could miss the
 * writer's last flush.
 */
export class LivenessChecker {
  private readonly stats = new Map<number, ProcStat | null>();
  private readonly tasks = new Map<string, ProcStat | null>();
  private readonly procfs = hasProcfs();
  private readonly system = systemIdentity();
  private readonly leaseTimeoutMs: number;

  constructor(options: LivenessOptions = {}) {
    this.leaseTimeoutMs = options.leaseTimeoutMs ?? DEFAULT_LEASE_TIMEOUT_MS;
  }

  /** True when the writer (process, or worker thread of one) is alive; see the module comment. */
  isAlive(writer: LivenessSubject): boolean {
    if (this.isForeign(writer)) {
      // Its pid names another process here (or none): only its lease can tell.
      const leaseMs = writer.leaseMs ?? 0;
      return Date.now() - leaseMs <= this.leaseTimeoutMs;
    }
    const { pid, startTime } = writer;
    if (!Number.isSafeInteger(pid) || pid <= 0) return false;
    if (!pidExists(pid)) return false;
    if (!this.procfs) return true; // Only the pid can be checked here.
    let stat = this.stats.get(pid);
    if (stat === undefined) {
      stat = readProcStat(pid) ?? null;
      this.stats.set(pid, stat);
    }
    if (!running(stat)) return false;
    // A file written without a start time (no /proc when written) can only be judged by pid.
    if (startTime !== 0 && stat.startTime !== startTime) return false;
    const tid = writer.tid ?? 0;
    if (tid <= 0) return true; // A main thread: it lives as long as its process.
    const key = `${pid}/${tid}`;
    let task = this.tasks.get(key);
    if (task === undefined) {
      task = readTaskStat(pid, tid) ?? null;
      this.tasks.set(key, task);
    }
    if (!running(task)) return false;
    // Tids are reused like pids: another thread with this tid started at another time.
    const tidStartTime = writer.tidStartTime ?? 0;
    return tidStartTime === 0 || task.startTime === tidStartTime;
  }

  /**
   * True when `writer` ran in another pid namespace or on another kernel than this process.
   * Unknown on either side (0 or '': no /proc, or a file from before the header extension)
   * counts as the same: such files are judged by pid, as they always were.
   */
  private isForeign(writer: LivenessSubject): boolean {
    const own = this.system;
    const namespace = writer.pidNamespace ?? 0;
    const boot = writer.bootId ?? '';
    if (namespace !== 0 && own.pidNamespace !== 0 && namespace !== own.pidNamespace) return true;
    return boot !== '' && own.bootId !== '' && boot !== own.bootId;
  }
}

/** False for a process or thread that does not exist or has exited (a zombie waiting to be reaped). */
function running(stat: ProcStat | null): stat is ProcStat {
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X' && stat.state !== 'x';
}

/** True when a process with this pid exists (signal 0 checks without sending anything). */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
