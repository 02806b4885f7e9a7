/**
 * The packages as a user gets them: the four tarballs `npm run pack` writes, checked by
 * publint and @arethetypeswrong/cli, installed into a scratch app in the OS temp directory
 * (outside the repository, so nothing resolves through the workspace), then the root README's
 * node:cluster example run from ESM and from CommonJS and type-checked as strict TypeScript,
 * and an Express cluster app, each asserting exact merged counts.
 *
 * Offline: the install uses `--offline` and only the tarballs, plus a tarball of each
 * third-party dependency packed from the repository's own node_modules. The peer frameworks
 * are not installed (`--legacy-peer-deps`); the scratch app links the repository's Express,
 * as an app would have its own.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor, withDeadline } from './helpers/deadline.js';
import { request, runLimited } from './helpers/http.js';
import { codeBlockAfter, esmToCommonJs } from './helpers/markdown.js';
import { RunningProgram } from './helpers/processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGES = ['core', 'express', 'koa', 'fastify'] as const;
const README_EXAMPLE = codeBlockAfter(
  join(ROOT, 'README.md'),
  'Example: @promfork/core with node:cluster',
  'js',
);

/** Runs a command to completion; fails the test with its output when it does not exit 0. */
function run(command: string, args: readonly string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: cleanEnv() });
  assert.equal(
    result.status,
    0,
    `${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`,
  );
  return result.stdout;
}

/** The test's environment without a multi-process directory (the scratch apps make their own). */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.PROMETHEUS_MULTIPROC_DIR;
  return env;
}

const tgz = (name: string) => `promfork-${name}-0.1.0.tgz`;

describe('the packed packages in a scratch app', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'promfork-consumer-'));
  const tarballs = join(scratch, 'tarballs');
  const app = join(scratch, 'app');
  // Each program gets its own TMPDIR, where prepareDirectory() creates its private directory,
  // so a test can see that the directory is removed.
  const tempFor = (name: string): string => {
    const dir = join(scratch, `tmp-${name}`);
    mkdirSync(dir);
    return dir;
  };
  after(() => rmSync(scratch, { recursive: true, force: true }));

  before(() => {
    mkdirSync(app);
    // `npm test` has just built everything: pack without running prepack's build again.
    run(process.execPath, [join(ROOT, 'scripts/pack.mjs'), tarballs, '--no-build'], ROOT);
    // Third-party dependencies of the packages, packed from the versions the repo resolved.
    const deps: string[] = [];
    for (const name of PACKAGES) {
      const dir = join(ROOT, 'packages', name);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      for (const dep of Object.keys(manifest.dependencies ?? {})) {
        if (dep.startsWith('@promfork/')) continue;
        const depDir = dirname(
          createRequire(join(dir, 'package.json')).resolve(`${dep}/package.json`),
        );
        const packed = run(
          'npm',
          ['pack', depDir, '--pack-destination', tarballs, '--silent', '--ignore-scripts'],
          scratch,
        );
        deps.push(join(tarballs, packed.trim().split('\n').pop()!));
      }
    }
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'scratch-app', private: true }),
    );
    run(
      'npm',
      [
        'install',
        '--offline',
        '--no-audit',
        '--no-fund',
        '--no-package-lock',
        '--legacy-peer-deps',
        ...PACKAGES.map((name) => join(tarballs, tgz(name))),
        ...deps,
      ],
      app,
    );
    // What the app would have installed itself: its framework and Node's types.
    mkdirSync(join(app, 'node_modules/@types'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules/express'), join(app, 'node_modules/express'));
    symlinkSync(join(ROOT, 'node_modules/@types/node'), join(app, 'node_modules/@types/node'));
  });

  it('each tarball holds the build, the sources its maps name, README and LICENSE', () => {
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    for (const name of PACKAGES) {
      const dir = join(app, 'node_modules/@promfork', name);
      assert.ok(existsSync(join(dir, 'dist/src/index.js')), `${name}: no dist/src/index.js`);
      assert.ok(existsSync(join(dir, 'dist/src/index.d.ts')), `${name}: no dist/src/index.d.ts`);
      assert.ok(existsSync(join(dir, 'README.md')), `${name}: no README.md`);
      assert.equal(readFileSync(join(dir, 'LICENSE'), 'utf8'), license, `${name}: LICENSE`);
      assert.ok(!existsSync(join(dir, 'dist/test')), `${name}: tests shipped`);
      // Every source a map points at (`sources` of .js.map and .d.ts.map) is in the package.
      const maps: string[] = [];
      const walk = (d: string) => {
        for (const entry of readdirSync(d, { withFileTypes: true })) {
          if (entry.isDirectory()) walk(join(d, entry.name));
          else if (entry.name.endsWith('.map')) maps.push(join(d, entry.name));
        }
      };
      walk(join(dir, 'dist'));
      assert.ok(maps.length > 0);
      for (const map of maps) {
        const { sources } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] };
        for (const source of sources) {
          assert.ok(existsSync(join(dirname(map), source)), `${map} names missing ${source}`);
        }
      }
    }
    assert.ok(existsSync(join(app, 'node_modules/@promfork/core/FORMAT.md')));
  });

  it('publint and @arethetypeswrong/cli report nothing for any tarball', () => {
    for (const name of PACKAGES) {
      const file = join(tarballs, tgz(name));
      const lint = run(join(ROOT, 'node_modules/.bin/publint'), ['run', file, '--strict'], ROOT);
      assert.match(lint, /All good!/, lint);
      // ESM only, deliberately (one copy of the default registry, no dual-package hazard);
      // CommonJS apps require() it on Node >= 20.19 (see the CommonJS test below). Offline:
      // no lookup of @types packages.
      run(
        join(ROOT, 'node_modules/.bin/attw'),
        [file, '--profile', 'esm-only', '--no-definitely-typed', '--format', 'ascii'],
        ROOT,
      );
    }
  });

  it("runs the README's cluster example from ESM: exact merged counts, directory removed", async () => {
    writeFileSync(join(app, 'server.mjs'), README_EXAMPLE);
    await checkReadmeExample(join(app, 'server.mjs'), tempFor('esm'));
  });

  it("stops the README's cluster example when its port is taken instead of re-forking", async () => {
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as AddressInfo;
    const script = join(app, 'server.mjs');
    const temp = tempFor('taken');
    writeFileSync(script, README_EXAMPLE);
    const program = new RunningProgram(
      'README example, port taken',
      process.execPath,
      [script],
      cleanEnv({ PORT: String(port), TMPDIR: temp }),
    );
    try {
      // A crash loop never exits: the bounded wait fails the test.
      const exit = await withDeadline('the primary to give up', program.exited, 30_000);
      assert.equal(exit.code, 1, program.describeOutput());
      assert.ok(
        program.stderr.some((line) => /failed to start; stopping/.test(line)),
        program.describeOutput(),
      );
    } finally {
      await program.stop('SIGKILL');
      taken.close();
    }
    assert.deepEqual(readdirSync(temp), [], 'the private directory outlived the primary');
  });

  it("runs the README's cluster example from CommonJS (require of the ESM package)", async () => {
    writeFileSync(join(app, 'server.cjs'), esmToCommonJs(README_EXAMPLE));
    await checkReadmeExample(join(app, 'server.cjs'), tempFor('cjs'));
  });

  it("type-checks the README's example and the core API as strict TypeScript", () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const compilerOptions = {
      strict: true,
      noEmit: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      lib: ['es2023'],
    };
    writeFileSync(join(app, 'server.mts'), README_EXAMPLE);
    writeFileSync(
      join(app, 'tsconfig.example.json'),
      JSON.stringify({
        compilerOptions: { ...compilerOptions, types: ['node'], skipLibCheck: true },
        files: ['server.mts'],
      }),
    );
    run(process.execPath, [tsc, '-p', 'tsconfig.example.json'], app);
    // The package's own declarations, fully checked, in a project without Node's types: no
    // Node global may leak into the public types.
    writeFileSync(
      join(app, 'core-only.mts'),
      [
        "import client, { Counter, Histogram, MemoryStore, Registry, setDefaultStore } from '@promfork/core';",
        'setDefaultStore(new MemoryStore());',
        'const registry = new Registry();',
        "const hits = new Counter({ name: 'hits_total', help: 'Hits.', labelNames: ['route'], registers: [registry] });",
        "hits.labels({ route: '/' }).inc();",
        "new Histogram({ name: 'took_seconds', help: 'Took.', registers: [registry] }).observe(0.1);",
        'export const text: Promise<string> = registry.metrics();',
        "new client.Gauge({ name: 'queue', help: 'Queue.', registers: [registry] }).set(1);",
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(app, 'tsconfig.core.json'),
      JSON.stringify({
        compilerOptions: { ...compilerOptions, types: [], skipLibCheck: false },
        files: ['core-only.mts'],
      }),
    );
    run(process.execPath, [tsc, '-p', 'tsconfig.core.json'], app);
  });

  it('runs an Express cluster app with @promfork/express: exact merged counts', async () => {
    writeFileSync(
      join(app, 'express-server.mjs'),
      `import cluster from 'node:cluster';
import express from 'express';
import { compactOnWorkerExit, prepareDirectory } from '@promfork/core';
import { metricsMiddleware } from '@promfork/express';

if (cluster.isPrimary) {
  prepareDirectory();
  compactOnWorkerExit();
  cluster.on('listening', (worker, address) => {
    console.log(\`worker \${worker.process.pid} listening on http://127.0.0.1:\${address.port}\`);
  });
  for (let i = 0; i < 2; i++) cluster.fork();
} else {
  const app = express();
  app.use(metricsMiddleware());
  const users = express.Router();
  users.get('/:userId', (req, res) => res.json({ user: req.params.userId }));
  app.use('/users', users);
  app.listen(Number(process.env.PORT), '127.0.0.1');
}
`,
    );
    const { program, url } = await startCluster(
      join(app, 'express-server.mjs'),
      2,
      tempFor('express'),
    );
    try {
      const requests = 24;
      await sendRequests(`${url}/users/7`, requests);
      const line = `http_requests_total{method="GET",route="/users/:userId",status_code="200"}`;
      await expectMergedCount(url, line, requests);
    } finally {
      await program.stop('SIGTERM');
    }
  });
});

/** Starts a cluster program on port 0 and resolves once `workers` workers listen. */
async function startCluster(
  script: string,
  workers: number,
  temp: string,
): Promise<{ program: RunningProgram; url: string }> {
  const program = new RunningProgram(
    script,
    process.execPath,
    [script],
    cleanEnv({ PORT: '0', TMPDIR: temp }),
  );
  try {
    const url = await waitFor(
      `${workers} workers to listen`,
      () => {
        const ports = program.stdout
          .map((line) => line.match(/listening on (http:\/\/\S+)$/)?.[1])
          .filter((u) => u !== undefined);
        return ports.length >= workers ? ports[0] : undefined;
      },
      { timeoutMs: 30_000 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${program.describeOutput()}`);
    });
    return { program, url };
  } catch (error) {
    await program.stop('SIGKILL');
    throw error;
  }
}

/** Sends `count` GET requests, each on its own connection so that every worker gets some. */
async function sendRequests(url: string, count: number): Promise<void> {
  const responses = await runLimited(
    Array.from({ length: count }, () => () => request(url)),
    4,
  );
  for (const response of responses) assert.equal(response.status, 200);
}

/**
 * Scrapes until the sample `series` reaches `expected` (a worker writes its file at the end of
 * the event-loop turn that answered, which may be just after the client got the answer), and
 * asserts it is exactly that in a few scrapes in a row, whichever worker answers them.
 */
async function expectMergedCount(url: string, series: string, expected: number): Promise<void> {
  const valueIn = (body: string): number | undefined => {
    const line = body.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  await waitFor(
    `${series} to reach ${expected}`,
    async () =>
      (valueIn((await request(`${url}/metrics`)).body) ?? 0) >= expected ? true : undefined,
    { timeoutMs: 15_000 },
  );
  for (let i = 0; i < 4; i++) {
    assert.equal(valueIn((await request(`${url}/metrics`)).body), expected, series);
  }
}

/**
 * Runs the README's cluster example (4 workers, no PROMETHEUS_MULTIPROC_DIR), sends it
 * requests, checks the merged counts, stops it with SIGTERM and checks that the private
 * directory prepareDirectory() made is gone.
 */
async function checkReadmeExample(script: string, temp: string): Promise<void> {
  const { program, url } = await startCluster(script, 4, temp);
  try {
    assert.equal(readdirSync(temp).length, 1, 'one private directory');
    const requests = 20;
    await sendRequests(`${url}/`, requests);
    await expectMergedCount(url, 'app_requests_total{route="/"}', requests);
    await expectMergedCount(url, 'app_request_duration_seconds_count{route="/"}', requests);
    assert.ok(!program.stderr.some((line) => line.includes('warning')), program.describeOutput());
  } finally {
    const exit = await program.stop('SIGTERM');
    assert.equal(exit.signal, 'SIGTERM', program.describeOutput());
  }
  assert.deepEqual(readdirSync(temp), [], 'the private directory outlived the primary');
}
