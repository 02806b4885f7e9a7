/**
 * `http.express.inject.*`: CPU per request added by @promfork/express over a bare express app, measured
 * in-process (no sockets), against express-prom-bundle and against the framework's floor. See
 * lib/inject.ts for the method.
 */
import { injectMethod, runInject } from './lib/inject.js';
import { peerName } from './lib/peers.js';
import type { Scenario } from './lib/types.js';

/** The scenario. */
export const scenario: Scenario = {
  name: 'http.express.inject',
  method: injectMethod('light-my-request', 'express-prom-bundle'),
  run: (context) => runInject('express', peerName('express-prom-bundle'), context),
};
