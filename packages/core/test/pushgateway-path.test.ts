import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { pushgatewayPath } from '../src/pushgateway-path.js';
import { AWKWARD_CHARS } from './helpers/awkward-chars.js';
import { codeOf } from './helpers/error-code.js';

/**
 * Reads a path back the way the Pushgateway documents it: `/metrics/job/<job>{/<name>/<value>}`
 * split on `/`, a name suffixed `@base64` carrying a base64url value (`=` alone: empty), any
 * other value URI-decoded. Returns the labels in path order.
 */
function readPath(path: string): Array<[string, string]> {
  const parts = path.split('/');
  assert.equal(parts[0], '');
  assert.equal(parts[1], 'metrics');
  const pairs: Array<[string, string]> = [];
  for (let i = 2; i < parts.length; i += 2) {
    const name = parts[i]!;
    const raw = parts[i + 1];
    assert.ok(raw !== undefined && raw !== '' && raw !== '.' && raw !== '..', `segment of ${name}`);
    if (name.endsWith('@base64')) {
      const value = raw === '=' ? '' : Buffer.from(raw, 'base64url').toString('utf8');
      assert.match(raw, /^[A-Za-z0-9_-]*=?$/);
      pairs.push([name.slice(0, -'@base64'.length), value]);
    } else {
      pairs.push([name, decodeURIComponent(raw)]);
    }
  }
  return pairs;
}

describe('pushgatewayPath', () => {
  it('puts the job, then each grouping in order, as plain segments when they can be', () => {
    assert.equal(pushgatewayPath('backup', undefined), '/metrics/job/backup');
    assert.equal(
      pushgatewayPath('backup', { instance: 'db-1', attempt: 3 }),
      '/metrics/job/backup/instance/db-1/attempt/3',
    );
  });

  it('URI-encodes other special characters', () => {
    assert.equal(
      pushgatewayPath('a b', { path: 'c:d%e?f#g' }),
      '/metrics/job/a%20b/path/c%3Ad%25e%3Ff%23g',
    );
  });

  it('uses the @base64 form for a slash, an empty value, "." and ".."', () => {
    assert.equal(
      pushgatewayPath('jobs/nightly', { dir: '/var/tmp', slot: '', here: '.', up: '..' }),
      '/metrics/job@base64/am9icy9uaWdodGx5/dir@base64/L3Zhci90bXA/slot@base64/=' +
        '/here@base64/Lg/up@base64/Li4',
    );
  });

  it('has no job segment and no groupings without a job name', () => {
    assert.equal(pushgatewayPath(undefined, undefined), '/metrics');
    assert.equal(pushgatewayPath(undefined, {}), '/metrics');
    assert.equal(
      codeOf(() => pushgatewayPath(undefined, { a: 'b' })),
      'PROMFORK_INVALID_OPTION',
    );
  });

  it('reads back as the job and groupings given, for any text', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.string({
        unit: fc.constantFrom(...AWKWARD_CHARS, '/', '.', '%', '@', '+'),
        maxLength: 12,
      }),
    );
    fc.assert(
      fc.property(
        text.filter((job) => job !== ''),
        fc.dictionary(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_]{0,8}$/), text),
        (job, groupings) => {
          fc.pre(!('job' in groupings));
          const path = pushgatewayPath(job, groupings);
          // A URL keeps it unchanged (no dot-segment or backslash rewriting on the way out).
          const url = new URL('http://127.0.0.1:9091');
          url.pathname = path;
          assert.equal(url.pathname, path);
          const pairs = readPath(path);
          assert.deepEqual(pairs, [['job', job], ...Object.entries(groupings)]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects grouping names and values the gateway could not take, with typed errors', () => {
    assert.equal(
      codeOf(() => pushgatewayPath('j', { job: 'x' })),
      'PROMFORK_RESERVED_LABEL',
    );
    assert.equal(
      codeOf(() => pushgatewayPath('j', { 'bad-name': 'x' })),
      'PROMFORK_INVALID_LABEL_NAME',
    );
    assert.equal(
      codeOf(() => pushgatewayPath('j', { __meta: 'x' })),
      'PROMFORK_INVALID_LABEL_NAME',
    );
    const bad = [undefined, null, Number.NaN, true, {}] as unknown as string[];
    for (const value of bad) {
      assert.equal(
        codeOf(() => pushgatewayPath('j', { a: value })),
        'PROMFORK_INVALID_LABEL_VALUE',
        String(value),
      );
    }
    assert.equal(
      codeOf(() => pushgatewayPath('j', { a: 'x\uD800' })),
      'PROMFORK_INVALID_LABEL_VALUE',
    );
    assert.equal(
      codeOf(() => pushgatewayPath('\uDC00', undefined)),
      'PROMFORK_INVALID_LABEL_VALUE',
    );
    const notObjects = [[], null, 'a=b'] as unknown as Record<string, string>[];
    for (const groupings of notObjects) {
      assert.equal(
        codeOf(() => pushgatewayPath('j', groupings)),
        'PROMFORK_INVALID_OPTION',
      );
    }
  });
});
