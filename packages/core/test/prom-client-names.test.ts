/**
 * `import client from 'prom-client'` -> `import client from '@promfork/core'`: the default
 * export holds prom-client's names, and every name prom-client 15 exports is either there or
 * listed, with its replacement, under "Not provided" in docs/migrating-from-prom-client.md.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import client, * as named from '../src/index.js';

const promClient = createRequire(import.meta.url)('prom-client') as Record<string, unknown>;
const GUIDE = fileURLToPath(
  new URL('../../../../docs/migrating-from-prom-client.md', import.meta.url),
);

/** Names in backticks at the start of a row of the guide's "Not provided" table. */
function notProvided(): Set<string> {
  const text = readFileSync(GUIDE, 'utf8');
  const section = text.slice(text.indexOf('## Not provided'));
  const end = section.indexOf('\n## ', 1);
  const rows = (end < 0 ? section : section.slice(0, end)).split('\n');
  const names = new Set<string>();
  for (const row of rows) {
    const match = row.match(/^\| `([A-Za-z_$][\w$]*)` +\| (.+)\|$/);
    if (match && match[2]!.trim() !== '') names.add(match[1]!);
  }
  return names;
}

test('every prom-client export is in the default export or listed as not provided', () => {
  const listed = notProvided();
  const exported = Object.keys(promClient).filter((name) => name !== 'default');
  assert.ok(exported.includes('Counter') && exported.length >= 15, 'prom-client names found');
  const missing = exported.filter((name) => !(name in client) && !listed.has(name));
  assert.deepEqual(missing, [], 'prom-client names neither exported nor documented');
  // A listed name must really be missing: the guide must not send users away from a name
  // that works.
  for (const name of listed) {
    assert.ok(!(name in client), `${name} is listed as not provided but exists`);
    assert.ok(exported.includes(name), `${name} is listed but prom-client has no such export`);
  }
});

test('each member of the default export is the named export of that name', () => {
  const namedExports = named as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(client)) {
    assert.ok(name in namedExports, `${name} is not a named export`);
    assert.equal(value, namedExports[name], name);
  }
  assert.ok(Object.isFrozen(client));
});

test("prom-client code through the default export: client.contentType follows register's", async () => {
  const registry = new client.Registry();
  const hits = new client.Counter({
    name: 'default_export_hits_total',
    help: 'Hits.',
    labelNames: ['route'],
    registers: [registry],
  });
  hits.inc({ route: '/' }, 2);
  const text = await registry.metrics();
  assert.match(text, /^default_export_hits_total\{route="\/"\} 2$/m);
  assert.equal(client.contentType, client.prometheusContentType);
  client.register.setContentType(client.openMetricsContentType);
  try {
    assert.equal(client.contentType, client.openMetricsContentType);
    assert.equal(client.contentType, named.contentType);
  } finally {
    client.register.setContentType(client.prometheusContentType);
  }
});
