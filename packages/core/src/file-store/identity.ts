/**
 * Who wrote a file, and whether that process is still alive.
 *
 * A pid alone is not an identity: pids are reused, and a file left by a dead worker must not be
 * taken for the file of the unrelated process that later got the same pid (its live-mode gauges
 * would reappear, and two processes' numbers would be merged as one). So a file records the pid
 * and the process start time in clock ticks since boot (`/proc/<pid>/stat` field 22, Linux).
 * A process is alive only when the pid exists, is not a zombie, and has the same start time.
 * Where /proc is unavailable the start time is 0 and only the pid can be checked; the random
 * token in the header still keeps files of one pid apart.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FileIdentity } from './format.js';

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
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
}

/** True when `/proc` describes processes on this system (Linux). */
function hasProcfs(): boolean {
  return readProcStat(process.pid) !== undefined;
}

/** A fresh identity for a file written by this process. */
export function currentIdentity(): FileIdentity {
  const stat = readProcStat(process.pid);
  return {
    pid: process.pid,
    startTime: stat?.startTime ?? 0,
    token: randomBytes(16).toString('hex'),
  };
}

/**
 * Answers "is the process that wrote this file still running?" for the files of one scrape.
 * Results are memoised per pid for the checker's lifetime: create one per scrape.
 *
 * A "dead" answer is final (a process found dead writes nothing more), while an "alive" one may
 * be out of date by the time it is used. So code that folds a dead process's file into the
 * archive asks first and reads the file only after a "dead" answer (compaction.ts): read
 * before, the content could miss the process's last flush.
 */
export class LivenessChecker {
  private readonly stats = new Map<number, ProcStat | null>();
  private readonly procfs = hasProcfs();

  /** True when the process with this pid and start time is alive (not a zombie). */
  isAlive(identity: Pick<FileIdentity, 'pid' | 'startTime'>): boolean {
    const { pid, startTime } = identity;
    if (!Number.isSafeInteger(pid) || pid <= 0) return false;
    if (!pidExists(pid)) return false;
    if (!this.procfs) return true; // Only the pid can be checked here.
    let stat = this.stats.get(pid);
    if (stat === undefined) {
      stat = readProcStat(pid) ?? null;
      this.stats.set(pid, stat);
    }
    if (stat === null) return false;
    // A zombie has exited; it only waits for its parent to reap it.
    if (stat.state === 'Z' || stat.state === 'X' || stat.state === 'x') return false;
    // A file written without a start time (no /proc when written) can only be judged by pid.
    return startTime === 0 || stat.startTime === startTime;
  }
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
