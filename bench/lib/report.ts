/**
 * Output of a run: the table on stdout, `bench/results.json`, and `docs/benchmarks.md`
 * regenerated from the run (figures, goals, how they were taken, notes).
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { PROFILE_NOTES } from './profile-notes.js';
import type { BenchResult } from './types.js';

/** A goal from the benchmark tracker issue. */
export interface Goal {
  readonly text: string;
  /** True when met; undefined when the figure is missing. */
  check(result: BenchResult): boolean | undefined;
  /** How far off a missed goal is, in words. */
  miss(result: BenchResult): string;
}

const ratioAtMost = (limit: number): Goal => ({
  text: `ratio ≤ ${limit}`,
  check: (r) => (r.ratio === null ? undefined : r.ratio <= limit),
  miss: (r) => `ratio ${fmt(r.ratio)} is ${fmt((r.ratio ?? 0) / limit)}× the goal of ${limit}`,
});

const oursNoMore = (limit: number, unit: string): Goal => ({
  text: `ours ≤ ${limit} ${unit}`,
  check: (r) => (r.ours === null ? undefined : r.ours <= limit),
  miss: (r) => `${fmt(r.ours)} ${unit} against the goal of ${limit} ${unit}`,
});

/** Both goals (the first one's miss is told first). */
const both = (a: Goal, b: Goal): Goal => ({
  text: `${a.text} and ${b.text}`,
  check: (r) => {
    const first = a.check(r);
    const second = b.check(r);
    return first === undefined || second === undefined ? undefined : first && second;
  },
  miss: (r) =>
    [a, b]
      .filter((g) => g.check(r) === false)
      .map((g) => g.miss(r))
      .join('; '),
});

/** The issue-14 goals of the in-process HTTP scenarios, for each framework. */
function injectGoals(framework: string): Record<string, Goal> {
  const id = `http.${framework}.inject`;
  return {
    [`${id}.added_cpu`]: ratioAtMost(0.15),
    [`${id}.over_floor`]: oursNoMore(1.5, 'µs/req'),
    [`${id}.over_floor.memory`]: oursNoMore(1.0, 'µs/req'),
  };
}

/** Goals by result id (issues 5 and 14; `report` ids have none). */
export const GOALS: Readonly<Record<string, Goal>> = {
  'counter.inc.labels3': ratioAtMost(0.2),
  'counter.child.inc': ratioAtMost(0.05),
  'histogram.observe.labels3': ratioAtMost(0.2),
  'histogram.native.observe.labels3': ratioAtMost(0.2),
  'scrape.8x1000': both(ratioAtMost(0.01), oursNoMore(10, 'ms')),
  'scrape.8x10000': oursNoMore(100, 'ms'),
  'scrape.8x10000.cold': oursNoMore(300, 'ms'),
  'scrape.1x1000000': oursNoMore(2000, 'ms'),
  'scrape.1x1000000.memory': oursNoMore(3, '× the text'),
  'scrape.protobuf.8x1000': ratioAtMost(1),
  'http.express.added_cpu': ratioAtMost(0.15),
  'http.fastify.added_cpu': ratioAtMost(0.15),
  'http.koa.added_cpu': ratioAtMost(0.15),
  ...injectGoals('express'),
  ...injectGoals('koa'),
  ...injectGoals('fastify'),
  'churn.scrape': {
    text: 'after ÷ before ≤ 1.5',
    check: (r) => (r.ours === null ? undefined : r.ours <= 1.5),
    miss: (r) => `scrape time grew ${fmt(r.ours)}×, the goal allows 1.5×`,
  },
};

/** Formats a figure with 3 significant digits (or `—`). */
export function fmt(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  return value.toPrecision(3);
}

/** The results as a fixed-width table. */
export function table(results: readonly BenchResult[]): string {
  const rows = [
    ['id', 'unit', 'ours', 'peer', 'ratio', 'goal', 'peer name'],
    ...results.map((r) => {
      const goal = GOALS[r.id];
      const met = goal?.check(r);
      const goalText =
        goal === undefined
          ? 'report'
          : `${goal.text} ${met === undefined ? '?' : met ? 'met' : 'MISSED'}`;
      return [r.id, r.unit, fmt(r.ours), fmt(r.peer), fmt(r.ratio), goalText, r.peerName];
    }),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Writes `results.json` (an array of `{id, unit, ours, peer, peerName, ratio}`). */
export function writeResults(path: string, results: readonly BenchResult[]): void {
  const plain = results.map(({ id, unit, ours, peer, peerName, ratio }) => ({
    id,
    unit,
    ours,
    peer,
    peerName,
    ratio,
  }));
  writeFileSync(path, `${JSON.stringify(plain, null, 2)}\n`);
}

/** Everything docs/benchmarks.md is generated from. */
export interface RunReport {
  readonly results: readonly BenchResult[];
  readonly quick: boolean;
  readonly startedAt: Date;
  /** 1-minute load average when the run started (the machine is shared). */
  readonly loadAtStart: number;
  readonly seconds: number;
  /** Scenario name → how it is measured. */
  readonly methods: ReadonlyMap<string, string>;
  /** Result id or scenario name → notes. */
  readonly notes: ReadonlyMap<string, string[]>;
  /** Scenario name → why it did not run (or failed). */
  readonly failures: ReadonlyMap<string, string>;
  /** Result id → what limits it, shown for goals that are missed. */
  readonly limits: ReadonlyMap<string, string>;
}

/** Regenerates docs/benchmarks.md from a run. */
export function writeDoc(path: string, report: RunReport): void {
  const cpu = cpus();
  const lines: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` (bench/run.ts) from the latest run: do not edit by hand. -->',
    '',
    'promfork against the libraries users would pick instead, measured side by side in the same',
    'run. The machines are shared and noisy: compare ratios (`ours / peer`, lower is better), not',
    'absolute times.',
    '',
    '## How they were taken',
    '',
    `- Date: ${report.startedAt.toISOString()} (${report.quick ? '`npm run bench -- --quick`' : '`npm run bench`'}, ${Math.round(report.seconds)} s)`,
    `- Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${type()} ${release()}`,
    `- Node.js ${process.version}; 1-minute load average ${report.loadAtStart.toFixed(1)} at the start and ${loadavg()[0]?.toFixed(1)} at the end (the machine is shared with other work)`,
    '- Micro benchmarks: a warm-up, then alternating rounds of ours and the peer (so bursts of',
    '  load from elsewhere hit both), median ns/op over the rounds.',
    '- Every store scenario also checks that the MemoryStore and the FileStore render the same',
    '  output after the same calls, so the benchmark doubles as a system test.',
    '',
    '## Results',
    '',
    '| id | unit | ours | peer | ratio | goal | peer |',
    '|---|---|---:|---:|---:|---|---|',
  ];
  for (const r of report.results) {
    const goal = GOALS[r.id];
    const met = goal?.check(r);
    const goalText =
      goal === undefined
        ? 'report'
        : `${goal.text}: ${met === undefined ? 'not measured' : met ? 'met' : '**missed**'}`;
    lines.push(
      `| \`${r.id}\` | ${r.unit} | ${fmt(r.ours)} | ${fmt(r.peer)} | ${fmt(r.ratio)} | ${goalText} | ${r.peerName || '—'} |`,
    );
  }
  lines.push(
    '',
    '`<id>.memory` rows are the same scenario on the MemoryStore (the plain ids use the FileStore).',
    '',
  );
  lines.push('## Scenarios', '');
  for (const [name, method] of report.methods) lines.push(`- \`${name}\`: ${method}`);
  const failed = [...report.failures];
  if (failed.length > 0) {
    lines.push('', '## Not measured in this run', '');
    for (const [name, why] of failed) lines.push(`- \`${name}\`: ${why}`);
  }
  const notes = [...report.notes].filter(([, list]) => list.length > 0);
  if (notes.length > 0) {
    lines.push('', '## Notes', '');
    for (const [id, list] of notes) for (const note of list) lines.push(`- \`${id}\`: ${note}`);
  }
  lines.push('', '## Where the remaining microseconds go', '', ...PROFILE_NOTES);
  const missed = report.results.filter((r) => GOALS[r.id]?.check(r) === false);
  lines.push('', '## Goals', '');
  if (missed.length === 0) {
    lines.push('Every goal that was measured in this run was met.');
  } else {
    for (const r of missed) {
      const goal = GOALS[r.id] as Goal;
      const limit = report.limits.get(r.id);
      lines.push(`- \`${r.id}\` missed: ${goal.miss(r)}.${limit === undefined ? '' : ` ${limit}`}`);
    }
  }
  lines.push(
    '',
    'Reproduce: `npm ci && npm run bench` (or `npm run bench -- --quick`, about 3 minutes).',
    '',
  );
  writeFileSync(path, lines.join('\n'));
}
