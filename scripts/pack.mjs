#!/usr/bin/env node
// Packs the four publishable packages into one folder (default `dist-packages/`), the way
// they would be published: `node scripts/pack.mjs [destination] [--no-build]`.
//
// Each package's `prepack` script builds it (`tsc -b`), so this works on a fresh clone after
// `npm install`. `--no-build` skips that (the consumer test passes it: `npm test` has just
// built everything). Either way, build output whose source file is gone (a stale `.js` left by
// a renamed module) stops the script: it would be shipped and could still be imported.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The publishable workspaces, in dependency order. */
const PACKAGES = ['core', 'express', 'koa', 'fastify'];

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const build = !args.includes('--no-build');
const destination = resolve(
  args.find((arg) => !arg.startsWith('--')) ?? join(root, 'dist-packages'),
);

function staleOutputs(pkg) {
  const stale = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.js')) {
        const rel = relative(join(pkg, 'dist', 'src'), full);
        if (!existsSync(join(pkg, 'src', rel.replace(/\.js$/, '.ts')))) stale.push(full);
      }
    }
  };
  if (existsSync(join(pkg, 'dist', 'src'))) walk(join(pkg, 'dist', 'src'));
  return stale;
}

/** Removes the tarballs of a previous run (and nothing else) from the destination. */
function removeTarballs() {
  for (const name of readdirSync(destination)) {
    if (/^promfork-.*\.tgz$/.test(name)) rmSync(join(destination, name));
  }
}

mkdirSync(destination, { recursive: true });
removeTarballs();
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const result = spawnSync(
  npm,
  [
    'pack',
    ...PACKAGES.flatMap((name) => ['--workspace', `packages/${name}`]),
    '--pack-destination',
    destination,
    ...(build ? [] : ['--ignore-scripts']),
    '--silent',
  ],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
);
if (result.status !== 0) {
  console.error(`npm pack failed (status ${result.status})`);
  process.exit(1);
}
const stale = PACKAGES.flatMap((name) => staleOutputs(join(root, 'packages', name)));
if (stale.length > 0) {
  console.error(
    `build output without a source file (would be shipped):\n  ${stale.join('\n  ')}\n` +
      'run `npm run clean && npm run build`, then pack again',
  );
  removeTarballs();
  process.exit(1);
}
for (const name of result.stdout.split('\n').filter((line) => line.endsWith('.tgz'))) {
  console.log(join(destination, name));
}
