#!/usr/bin/env node
// Runs every compiled test file (`*.test.js` under a `dist/` folder of a package, test/ or
// bench/) with node's built-in runner. Node 20 has no glob support in `node --test`, so the
// list is built here; extra arguments are passed to `node --test` (e.g. --test-name-pattern).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['packages/core', 'packages/express', 'packages/koa', 'packages/fastify', 'test'];
const files = [];
function walk(dir) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names.sort()) {
    const full = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(full).isDirectory()) walk(full);
    else if (name.endsWith('.test.js')) files.push(full);
  }
}
for (const root of roots) walk(join(root, 'dist'));
if (files.length === 0) {
  console.error('no compiled test files found: run `npm run build` first');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', ...process.argv.slice(2), ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
