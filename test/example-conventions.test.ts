/**
 * The examples' naming preset switch (`PROMFORK_CONVENTIONS`, examples/shared/conventions.ts):
 * unset keeps the adapters' default, a preset name is passed on, any other value is rejected
 * with a message naming it, never replaced by the default.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as ConfigModule from '../examples/shared/config.js';
import type * as ConventionsModule from '../examples/shared/conventions.js';

// The compiled example, loaded by URL: this file runs from test/dist, the examples' output is
// examples/dist (the type-only imports above are checked against the examples project).
const { ConfigError } = (await import(
  new URL('../../examples/dist/shared/config.js', import.meta.url).href
)) as typeof ConfigModule;
const { exampleConventions } = (await import(
  new URL('../../examples/dist/shared/conventions.js', import.meta.url).href
)) as typeof ConventionsModule;

describe('exampleConventions', () => {
  it('adds no option when PROMFORK_CONVENTIONS is unset (the adapters keep their default)', () => {
    assert.deepEqual(exampleConventions({}), {});
  });

  for (const preset of ['promfork', 'opentelemetry', 'express-prom-bundle'] as const) {
    it(`passes PROMFORK_CONVENTIONS=${preset} on`, () => {
      assert.deepEqual(exampleConventions({ PROMFORK_CONVENTIONS: preset }), {
        conventions: preset,
      });
    });
  }

  for (const raw of ['otel', '', 'OpenTelemetry']) {
    it(`rejects PROMFORK_CONVENTIONS=${JSON.stringify(raw)}`, () => {
      assert.throws(
        () => exampleConventions({ PROMFORK_CONVENTIONS: raw }),
        (error: Error) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, /PROMFORK_CONVENTIONS must be one of promfork, /);
          assert.ok(error.message.endsWith(`got ${JSON.stringify(raw)}`), error.message);
          return true;
        },
      );
    });
  }
});
