/**
 * Checks an exposition with Prometheus' own tooling.
 *
 * - Prometheus text 0.0.4: `promtool check metrics` (parse errors and lint findings).
 * - OpenMetrics: `promtool check metrics` only reads the 0.0.4 format, so the text goes through
 *   Prometheus' OpenMetrics parser via `promtool tsdb create-blocks-from openmetrics` into a
 *   throw-away directory. That command needs a timestamp on every sample, so samples without
 *   one get a fixed timestamp inserted after their value; nothing else is changed.
 *
 * When promtool is not on PATH the check is skipped with a message, except under CI
 * (`process.env.CI` set), where a missing promtool fails the test: CI installs it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type ExpositionSyntax, parseExposition } from './parse-exposition.js';

let available: boolean | undefined;

/** Whether `promtool` can be run here. */
export function promtoolAvailable(): boolean {
  if (available === undefined) {
    const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
    available = probe.error === undefined && probe.status === 0;
  }
  return available;
}

/** Options of {@link checkWithPromtool}. */
export interface PromtoolCheckOptions {
  /**
   * Lint findings (as opposed to parse errors) that are expected, as substrings of promtool's
   * output lines; e.g. `'should have "_total" suffix'` for a deliberately prom-client-style name.
   * @default [] (any finding fails)
   */
  readonly allowLint?: readonly string[];
  /**
   * Accept every lint finding: only a parse failure fails. For input whose names and types are
   * random (damaged files), where naming-style advice says nothing about the exposition.
   * @default false
   */
  readonly parseOnly?: boolean;
}

/**
 * Asserts that promtool accepts `text` in the given syntax; skips the test (outside CI) when
 * promtool is not installed. Returns false when skipped.
 */
export function checkWithPromtool(
  t: TestContext,
  text: string,
  syntax: ExpositionSyntax,
  options: PromtoolCheckOptions = {},
): boolean {
  if (!promtoolAvailable()) {
    const message =
      'promtool not found on PATH: install Debian package "prometheus" to run this check';
    if (process.env.CI) throw new Error(`${message} (required under CI)`);
    t.skip(message);
    return false;
  }
  if (syntax === 'prometheus') checkText(text, options.allowLint ?? [], options.parseOnly ?? false);
  else checkOpenMetrics(text);
  return true;
}

function checkText(text: string, allowLint: readonly string[], parseOnly: boolean): void {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error !== undefined) throw run.error;
  const output = `${run.stdout}${run.stderr}`.trim();
  if (run.status === 0) return;
  // Exit status 3 means lint findings only; anything else is a parse failure.
  if (run.status === 3 && !output.includes('error while linting')) {
    if (parseOnly) return;
    const unexpected = output
      .split('\n')
      .filter((line) => line !== '' && !allowLint.some((allowed) => line.includes(allowed)));
    if (unexpected.length === 0) return;
    throw new Error(
      `promtool check metrics found lint problems:\n${unexpected.join('\n')}\n--- input ---\n${text}`,
    );
  }
  throw new Error(
    `promtool check metrics failed (exit ${run.status}):\n${output}\n--- input ---\n${text}`,
  );
}

/** Fixed timestamp (seconds) given to samples that have none, for the backfill parser. */
const FILL_TIMESTAMP = '1700000000';

function checkOpenMetrics(text: string): void {
  const families = parseExposition(text, 'openmetrics');
  const lines = text.split('\n');
  let samples = 0;
  for (const family of families) {
    for (const sample of family.samples) {
      samples += 1;
      if (sample.timestamp !== undefined) continue;
      const line = lines[sample.line - 1] as string;
      lines[sample.line - 1] =
        `${line.slice(0, sample.valueEnd)} ${FILL_TIMESTAMP}${line.slice(sample.valueEnd)}`;
    }
  }
  // The backfill tool refuses input without samples; metadata alone was checked by the parser.
  if (samples === 0) return;
  const dir = mkdtempSync(join(tmpdir(), 'promfork-promtool-'));
  try {
    const input = join(dir, 'input.om');
    writeFileSync(input, lines.join('\n'));
    const run = spawnSync(
      'promtool',
      ['tsdb', 'create-blocks-from', 'openmetrics', input, join(dir, 'blocks')],
      { encoding: 'utf8' },
    );
    if (run.error !== undefined) throw run.error;
    if (run.status !== 0) {
      throw new Error(
        `promtool's OpenMetrics parser rejected the exposition (exit ${run.status}):\n${run.stdout}${run.stderr}\n--- input ---\n${text}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
