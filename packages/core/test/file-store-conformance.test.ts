/** The store conformance suite, run against the FileStore (each test in a fresh directory). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { FileStore } from '../src/file-store/index.js';
import { runStoreConformance } from './store-conformance.js';

const root = mkdtempSync(join(tmpdir(), 'promfork-conformance-'));
after(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

runStoreConformance(
  'FileStore',
  () => new FileStore({ dir: join(root, String(++count)), onError: () => {} }),
);
