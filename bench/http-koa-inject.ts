/**
 * `http.koa.inject.*`: CPU per request added by @promfork/koa over a bare koa app, measured
 * in-process (no sockets), against prometheus-api-metrics and against the framework's floor. See
 * lib/inject.ts for the method.
 */
import { injectMethod, runInject } from './lib/inject.js';
import { peerName } from './lib/peers.js';
import type { Scenario } from './lib/types.js';

/** The scenario. */
export const scenario: Scenario = {
  name: 'http.koa.inject',
  method: injectMethod('light-my-request', 'prometheus-api-metrics'),
  run: (context) => runInject('koa', peerName('prometheus-api-metrics'), context),
};
