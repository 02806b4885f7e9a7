import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from '../src/index.js';

test('docs/errors.md lists exactly the codes of ERROR_CODES', () => {
  // compiled to packages/core/dist/test/: the repository root is four levels up
  const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^##+\s+`?(PROMFORK_[A-Z_]+)`?/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), Object.keys(ERROR_CODES).sort());
  assert.equal(new Set(documented).size, documented.length, 'a code is documented twice');
});
