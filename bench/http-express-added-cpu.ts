/**
 * `http.express.added_cpu`: server CPU per request added by @promfork/express over a bare express app,
 * against express-prom-bundle. See lib/http.ts for the method.
 */
import { runHttp } from './lib/http.js';
import { peerName } from './lib/peers.js';
import type { Scenario } from './lib/types.js';

/** The scenario. */
export const scenario: Scenario = {
  name: 'http.express.added_cpu',
  method:
    'server CPU (utime+stime from /proc) per request over a bare express app, autocannon on 127.0.0.1 with 10 connections, server and load on different cores; median of rounds; ours on the FileStore vs express-prom-bundle.',
  run: (context) => runHttp('express', peerName('express-prom-bundle'), context),
};
