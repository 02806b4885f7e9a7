/**
 * `http.fastify.inject.*`: CPU per request added by @promfork/fastify over a bare fastify app, measured
 * in-process (no sockets), against fastify-metrics and against the framework's floor. See
 * lib/inject.ts for the method.
 */
import { injectMethod, runInject } from './lib/inject.js';
import { peerName } from './lib/peers.js';
import type { Scenario } from './lib/types.js';

/** The scenario. */
export const scenario: Scenario = {
  name: 'http.fastify.inject',
  method: injectMethod('fastify.inject', 'fastify-metrics'),
  run: (context) => runInject('fastify', peerName('fastify-metrics'), context),
};
