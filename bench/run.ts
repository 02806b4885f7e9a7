/**
 * The benchmark runner: `npm run bench` (everything) or `npm run bench -- --quick` (fewer
 * rounds and smaller counts, about 3 minutes). Prints a table, writes bench/results.json and
 * regenerates docs/benchmarks.md from the run. `--only=<text>` runs the scenarios whose name
 * contains the text and only prints the table (a partial run never overwrites the results).
 *
 * Scenarios run one after another in this process (some fork workers of their own); every
 * process they start is stopped before the next scenario begins.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { scenario as churnScrape } from './churn-scrape.js';
import { scenario as counterChildInc } from './counter-child-inc.js';
import { scenario as counterIncLabels3 } from './counter-inc-labels3.js';
import { scenario as gaugeSetLabels3 } from './gauge-set-labels3.js';
import { scenario as histogramNativeObserveLabels3 } from './histogram-native-observe-labels3.js';
import { scenario as histogramObserveLabels3 } from './histogram-observe-labels3.js';
import { scenario as httpExpress } from './http-express-added-cpu.js';
import { scenario as httpExpressInject } from './http-express-inject.js';
import { scenario as httpFastify } from './http-fastify-added-cpu.js';
import { scenario as httpFastifyInject } from './http-fastify-inject.js';
import { scenario as httpKoa } from './http-koa-added-cpu.js';
import { scenario as httpKoaInject } from './http-koa-inject.js';
import { table, writeDoc, writeResults } from './lib/report.js';
import type { BenchResult, Scenario } from './lib/types.js';
import { scenario as scrape1x1000000 } from './scrape-1x1000000.js';
import { scenario as scrape8x1000 } from './scrape-8x1000.js';
import { scenario as scrape8x10000 } from './scrape-8x10000.js';
import { scenario as scrapeProtobuf8x1000 } from './scrape-protobuf-8x1000.js';

const SCENARIOS: readonly Scenario[] = [
  counterIncLabels3,
  counterChildInc,
  histogramObserveLabels3,
  histogramNativeObserveLabels3,
  gaugeSetLabels3,
  scrape8x1000,
  scrape8x10000,
  scrape1x1000000,
  scrapeProtobuf8x1000,
  churnScrape,
  httpExpressInject,
  httpFastifyInject,
  httpKoaInject,
  httpExpress,
  httpFastify,
  httpKoa,
];

interface Args {
  readonly quick: boolean;
  readonly only: string | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  let quick = false;
  let only: string | undefined;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg.startsWith('--only=')) only = arg.slice('--only='.length);
    else
      throw new Error(
        `bench: unknown argument ${JSON.stringify(arg)}: expected --quick or --only=<text>`,
      );
  }
  return { quick, only };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const results: BenchResult[] = [];
  const methods = new Map<string, string>();
  const notes = new Map<string, string[]>();
  const failures = new Map<string, string>();
  const limits = new Map<string, string>();
  const loadAtStart = loadavg()[0] ?? 0;
  const selected = SCENARIOS.filter((s) => args.only === undefined || s.name.includes(args.only));
  for (const scenario of selected) {
    methods.set(scenario.name, scenario.method);
    process.stderr.write(`bench: ${scenario.name}${args.quick ? ' (quick)' : ''}\n`);
    const begin = Date.now();
    try {
      const produced = await scenario.run({
        quick: args.quick,
        log: (line) => process.stderr.write(`  ${line}\n`),
        note: (id, text) => notes.set(id, [...(notes.get(id) ?? []), text]),
        limit: (id, text) => limits.set(id, text),
      });
      results.push(...produced);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.set(scenario.name, message.split('\n')[0] ?? message);
      process.stderr.write(`  FAILED: ${message}\n`);
      process.exitCode = 1;
    }
    process.stderr.write(`  (${((Date.now() - begin) / 1000).toFixed(1)} s)\n`);
  }
  console.log(table(results));
  if (args.only !== undefined) {
    console.log('\n--only run: bench/results.json and docs/benchmarks.md left as they were');
    return;
  }
  const root = fileURLToPath(new URL('../../', import.meta.url));
  writeResults(`${root}bench/results.json`, results);
  writeDoc(`${root}docs/benchmarks.md`, {
    results,
    quick: args.quick,
    startedAt,
    loadAtStart,
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    methods,
    notes,
    failures,
    limits,
  });
  // The doc is checked by biome like every file: give it the formatter's layout (aligned tables).
  try {
    execFileSync(
      `${root}node_modules/.bin/biome`,
      ['format', '--write', `${root}docs/benchmarks.md`],
      {
        stdio: 'ignore',
      },
    );
  } catch (error) {
    console.error(`bench: could not format docs/benchmarks.md: ${(error as Error).message}`);
  }
  console.log(`\nwrote bench/results.json and docs/benchmarks.md`);
}

await main();
