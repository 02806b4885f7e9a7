/**
 * Every JavaScript or TypeScript code block of the documentation (the READMEs, docs/*.md and
 * FORMAT.md) is checked, so that the docs cannot rot:
 *
 * - a complete program (the default) is type-checked, all blocks in ONE `tsc` run against the
 *   built packages (JavaScript with `checkJs`, TypeScript strict); the programs in {@link RUNS}
 *   are also run, their servers moved to ephemeral loopback ports by a preload
 *   (test/fixtures/listen-on-loopback.ts), and their answers checked;
 * - a block whose first line is `// examples/<file>` or `// examples/<file>#<region>` is a
 *   copy of that file (or of the lines between `// #region <region>` and `// #endregion` in
 *   it): the test checks the file exists and the text matches (the examples have their own
 *   tests);
 * - a block whose info string says `fragment` (```js fragment) is only parsed; the test lists
 *   these so that there stay few of them.
 *
 * The root README's cluster example is run by test/consumer.test.ts from the packed tarballs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { waitFor, withDeadline } from './helpers/deadline.js';
import { request } from './helpers/http.js';
import { type CodeBlock, codeBlocks } from './helpers/markdown.js';
import { RunningProgram } from './helpers/processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./fixtures/listen-on-loopback.js', import.meta.url));

/** The Markdown files whose code blocks are checked, relative to the repository root. */
function documentationFiles(): string[] {
  const files = ['README.md', 'examples/README.md', 'packages/core/FORMAT.md'];
  for (const name of readdirSync(join(ROOT, 'packages')).sort()) {
    if (existsSync(join(ROOT, 'packages', name, 'README.md'))) {
      files.push(`packages/${name}/README.md`);
    }
  }
  for (const name of readdirSync(join(ROOT, 'docs')).sort()) {
    if (name.endsWith('.md')) files.push(`docs/${name}`);
  }
  return files;
}

/** Info-string languages that are checked, and the file extension each is compiled as. */
const LANGUAGES: Readonly<Record<string, string>> = {
  js: '.mjs',
  javascript: '.mjs',
  mjs: '.mjs',
  cjs: '.cjs',
  ts: '.mts',
  typescript: '.mts',
  mts: '.mts',
  cts: '.cts',
};

/** A checked block: where it is, and how it is checked. */
interface DocBlock extends CodeBlock {
  /** `<file> › <heading>`, with ` #2`, ` #3` … for further blocks under the same heading. */
  readonly id: string;
  readonly kind: 'program' | 'fragment' | 'example-copy';
  /** The scratch file a program is compiled from (relative to the scratch directory). */
  readonly source: string;
}

const EXAMPLE_MARKER = /^\/\/ (examples\/[\w./-]+?)(?:#([\w-]+))?\s*$/;

function collectBlocks(): DocBlock[] {
  const blocks: DocBlock[] = [];
  const seen = new Map<string, number>();
  for (const file of documentationFiles()) {
    for (const block of codeBlocks(join(ROOT, file))) {
      const extension = LANGUAGES[block.lang];
      if (extension === undefined) continue;
      const base = `${file} › ${block.heading}`;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      const kind = block.attributes.includes('fragment')
        ? 'fragment'
        : EXAMPLE_MARKER.test(block.code.split('\n')[0]!)
          ? 'example-copy'
          : 'program';
      const source = `blocks/b${String(blocks.length).padStart(2, '0')}${extension}`;
      blocks.push({ ...block, file, id: n === 1 ? base : `${base} #${n}`, kind, source });
    }
  }
  return blocks;
}

/** What running a program block must show. */
type Run =
  | {
      /** A server: the ports it listens on (one entry per listen, so 4 workers: 4 entries). */
      readonly listens: readonly number[];
      /** Checks the running program; `url(port)` is where the server asked for `port` is. */
      readonly check: (url: (port: number) => string) => Promise<void>;
    }
  | {
      /** A program that ends by itself: it must exit 0. */
      readonly exits: true;
    };

/** The value of the sample line `series` in an exposition, or undefined. */
function sampleValue(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Scrapes `url` until `series` is `expected` (a process file is written after the answer). */
async function expectSample(url: string, series: string, expected: number): Promise<void> {
  await waitFor(
    `${series} = ${expected} at ${url}`,
    async () => (sampleValue((await request(url)).body, series) === expected ? true : undefined),
    { timeoutMs: 15_000 },
  );
}

/** GETs `url` and asserts the status (and, if given, that the body contains `text`). */
async function expectStatus(url: string, status: number, text?: string): Promise<void> {
  const response = await request(url);
  assert.equal(response.status, status, `GET ${url}: ${response.body.slice(0, 200)}`);
  if (text !== undefined) assert.ok(response.body.includes(text), `GET ${url}: ${response.body}`);
}

const NESTED =
  'http_requests_total{method="GET",route="/users/:userId/posts/:postId",status_code="200"}';

/** An adapter README's example: nested route template, metrics on the app and on port 9464. */
async function checkAdapterExample(url: (port: number) => string): Promise<void> {
  await expectStatus(`${url(3000)}/users/7/posts/1`, 200);
  await expectSample(`${url(3000)}/metrics`, NESTED, 1);
  await expectSample(`${url(9464)}/metrics`, NESTED, 1);
  await expectStatus(`${url(9464)}/anything`, 404);
}

/** docs/security.md: the public port records but hides the metrics, port 9464 serves them. */
async function checkSplitPorts(url: (port: number) => string): Promise<void> {
  await expectStatus(`${url(3000)}/users/1`, 200);
  const hidden = await request(`${url(3000)}/metrics`);
  assert.equal(hidden.status, 404, 'the public port serves no metrics');
  assert.doesNotMatch(hidden.body, /# TYPE/);
  const admin = `${url(9464)}/metrics`;
  await expectSample(
    admin,
    'http_requests_total{method="GET",route="/users/:id",status_code="200"}',
    1,
  );
  await expectSample(
    admin,
    'http_requests_total{method="GET",route="#unmatched",status_code="404"}',
    1,
  );
  await expectStatus(`${url(9464)}/anything`, 404);
}

const SECURITY = 'docs/security.md › Serve the metrics on a separate port bound to loopback';

/** The program blocks that are run, by block id (see {@link DocBlock.id}). */
const RUNS: Readonly<Record<string, Run>> = {
  'packages/core/README.md › Single process': {
    listens: [3000],
    check: async (url) => {
      await expectStatus(`${url(3000)}/`, 200, 'hello');
      const metrics = `${url(3000)}/metrics`;
      await expectSample(
        metrics,
        'app_requests_total{method="GET",route="/",status_code="200"}',
        1,
      );
      await expectSample(metrics, 'app_request_duration_seconds_count{route="/"}', 1);
      await expectSample(metrics, 'app_requests_in_flight', 0);
    },
  },
  'packages/core/README.md › Several processes': {
    listens: [3000, 3000, 3000, 3000],
    check: async (url) => {
      for (let i = 0; i < 12; i++) await expectStatus(`${url(3000)}/`, 200, 'hello from');
      // The merged total, whichever worker answers.
      for (let i = 0; i < 4; i++)
        await expectSample(`${url(3000)}/metrics`, 'app_requests_total', 12);
    },
  },
  'packages/core/README.md › Tracking long-running work': { exits: true },
  'packages/core/README.md › Default metrics': { exits: true },
  'packages/express/README.md › Example': { listens: [3000, 9464], check: checkAdapterExample },
  'packages/koa/README.md › Example': { listens: [3000, 9464], check: checkAdapterExample },
  'packages/fastify/README.md › Example': {
    listens: [3000],
    check: async (url) => {
      await expectStatus(`${url(3000)}/users/7/posts/1`, 200);
      await expectStatus(`${url(3000)}/health`, 200, 'ok');
      await expectSample(`${url(3000)}/metrics`, NESTED, 1);
      const body = (await request(`${url(3000)}/metrics`)).body;
      assert.doesNotMatch(body, /route="\/health"/, 'config.metrics false is not recorded');
    },
  },
  [SECURITY]: { listens: [3000, 9464], check: checkSplitPorts },
  [`${SECURITY} #2`]: { listens: [3000, 9464], check: checkSplitPorts },
  [`${SECURITY} #3`]: { listens: [3000, 9464], check: checkSplitPorts },
};

/**
 * "`x` is of type 'unknown'" in a JavaScript block: JavaScript cannot declare a route's
 * parameter types (Fastify types `request.params` unknown unless told), so a JavaScript user
 * never sees this error; everything else is reported for JavaScript too.
 */
const JS_UNKNOWN = /^blocks\/b\d+\.[mc]js\(\d+,\d+\): error TS18046:/;

/** A tsc diagnostic line `blocks/b03.mjs(12,5): error TS…` pointed back at the Markdown. */
function locate(diagnostic: string, blocks: readonly DocBlock[]): string {
  const match = /^(blocks\/b\d+\.\w+)\((\d+),(\d+)\): (.*)$/.exec(diagnostic);
  if (!match) return diagnostic;
  const block = blocks.find((b) => b.source === match[1]);
  if (!block) return diagnostic;
  return `${block.file}:${block.line + Number(match[2]) - 1}:${match[3]} (${block.id}): ${match[4]}`;
}

/** The lines of a `// #region name` … `// #endregion` region of `text`, dedented, or undefined. */
function region(text: string, name: string): string | undefined {
  const lines = text.split('\n');
  // `// #region name`, optionally followed by a note after a space.
  const start = lines.findIndex((l) => `${l.trim()} `.startsWith(`// #region ${name} `));
  const end = lines.findIndex((l, i) => i > start && l.trim() === '// #endregion');
  if (start < 0 || end < 0) return undefined;
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return `${body.map((l) => l.slice(indent)).join('\n')}\n`;
}

describe('the code blocks of the documentation', () => {
  const blocks = collectBlocks();
  const programs = blocks.filter((b) => b.kind === 'program');
  const scratch = mkdtempSync(join(ROOT, 'test/dist/docs-blocks-'));
  let tsc: { status: number | null; output: string };
  after(() => rmSync(scratch, { recursive: true, force: true }));

  before(() => {
    // Inside the repository, so that imports resolve through its node_modules: @promfork/*
    // are the workspace links to the built packages, the frameworks and @types/node are there.
    mkdirSync(join(scratch, 'blocks'));
    for (const block of programs) writeFileSync(join(scratch, block.source), block.code);
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          types: ['node'],
          strict: true,
          allowJs: true,
          checkJs: true,
          skipLibCheck: true,
          rootDir: 'blocks',
          outDir: 'out',
        },
        files: programs.map((b) => b.source),
      }),
    );
    // One compiler run for every block; it also emits the JavaScript that is run below.
    const result = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', scratch, '--pretty', 'false'],
      { cwd: scratch, encoding: 'utf8' },
    );
    tsc = { status: result.status, output: `${result.stdout}${result.stderr}` };
  });

  it('finds the documentation blocks (at least the known ones)', () => {
    assert.ok(programs.length >= 12, `only ${programs.length} program blocks found`);
    for (const id of Object.keys(RUNS)) {
      const block = blocks.find((b) => b.id === id);
      assert.ok(block, `RUNS names ${id}, which is no code block (renamed heading?)`);
      assert.equal(block.kind, 'program', `${id} is run, so it must be a complete program`);
    }
  });

  it('type-checks every complete program (one tsc run, strict)', () => {
    const errors = tsc.output
      .split('\n')
      .filter((line) => line.trim() !== '' && !JS_UNKNOWN.test(line))
      .map((line) => locate(line, blocks));
    assert.deepEqual(errors, [], `tsc found errors in the documentation:\n${errors.join('\n')}`);
    assert.ok(tsc.status === 0 || tsc.output.trim() !== '', 'tsc failed without a diagnostic');
  });

  it('parses every fragment, and there are few of them', (t) => {
    const fragments = blocks.filter((b) => b.kind === 'fragment');
    for (const block of fragments) {
      t.diagnostic(`parsed only (fragment): ${block.file}:${block.line} ${block.id}`);
      const { diagnostics = [] } = ts.transpileModule(block.code, {
        reportDiagnostics: true,
        fileName: `fragment${LANGUAGES[block.lang]}`,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      });
      const messages = diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
      assert.deepEqual(messages, [], `${block.file}:${block.line} (${block.id}) does not parse`);
    }
    assert.ok(fragments.length <= 3, `${fragments.length} fragments: make some complete programs`);
  });

  it('blocks that name an examples/ file match that file (or its marked region)', () => {
    for (const block of blocks.filter((b) => b.kind === 'example-copy')) {
      const [marker = '', ...rest] = block.code.split('\n');
      const [, path = '', name] = EXAMPLE_MARKER.exec(marker)!;
      const full = join(ROOT, path);
      assert.ok(existsSync(full), `${block.file}:${block.line}: ${path} does not exist`);
      const text = readFileSync(full, 'utf8');
      const expected = name === undefined ? text : region(text, name);
      assert.ok(
        expected !== undefined,
        `${block.file}:${block.line}: no region ${name} in ${path}`,
      );
      assert.equal(rest.join('\n'), expected, `${block.file}:${block.line} differs from ${path}`);
    }
  });

  for (const [id, run] of Object.entries(RUNS)) {
    it(`runs ${id}`, async () => {
      const block = blocks.find((b) => b.id === id);
      assert.ok(block, `no block ${id}`);
      const script = join(scratch, 'out', basename(block.source).replace(/\.mts$/, '.mjs'));
      const temp = join(scratch, `run-${basename(block.source)}`);
      mkdirSync(temp);
      const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: temp };
      // The adapter examples say to run them with PROMETHEUS_MULTIPROC_DIR set: do so.
      if (block.code.includes('PROMETHEUS_MULTIPROC_DIR=')) {
        env.PROMETHEUS_MULTIPROC_DIR = join(temp, 'metrics');
      } else {
        delete env.PROMETHEUS_MULTIPROC_DIR;
      }
      const program = new RunningProgram(id, process.execPath, ['--import', PRELOAD, script], env);
      try {
        if ('exits' in run) {
          const exit = await withDeadline(`${id} to end`, program.exited, 30_000);
          assert.equal(exit.code, 0, program.describeOutput());
          return;
        }
        const ports = await waitFor(
          `${id} to listen on ${run.listens.join(', ')}`,
          () => {
            // A server that died before it listened: stop waiting (null), fail below.
            if (program.child.exitCode !== null || program.child.signalCode !== null) return null;
            const seen = program.stdout
              .map((line) => /^listen-on-loopback (\d+) (\d+)$/.exec(line))
              .filter((m) => m !== null)
              .map((m) => [Number(m[1]), Number(m[2])] as const);
            const counts = new Map<number, number>();
            for (const port of run.listens) counts.set(port, (counts.get(port) ?? 0) + 1);
            for (const [port, count] of counts) {
              if (seen.filter(([asked]) => asked === port).length < count) return undefined;
            }
            return new Map(seen);
          },
          { timeoutMs: 30_000 },
        );
        assert.ok(ports !== null, `${id} exited before it listened`);
        await run.check((port) => {
          const actual = ports.get(port);
          assert.ok(actual !== undefined, `${id} did not listen on ${port}`);
          return `http://127.0.0.1:${actual}`;
        });
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${program.describeOutput()}`);
      } finally {
        await program.stop('SIGTERM');
      }
    });
  }
});
