/**
 * `http.koa.inject.*`: CPU per request added by @promfork/koa over a bare koa app, measured
 * in-process (no sockets), against prometheus-api-metrics and against the framework's floor. See
 * lib/inject.ts for the method.
 */
import { runInject } from './lib/inject.js';
import { peerName } from './lib/peers.js';
import type { Scenario } from './lib/types.js';

/** The scenario. */
export const scenario: Scenario = {
  name: 'http.koa.inject',
  method:
    'in-process requests (light-my-request) into five copies of one three-route app (one route in a nested router) in one worker process: bare, the floor (one shared close listener per response), ours on the MemoryStore, ours on the FileStore, prometheus-api-metrics; each round runs the same number of requests through every copy in rotating order, one request per event-loop turn; CPU per request from process.cpuUsage(); added CPU is the median over rounds of the difference with the bare copy in the same round, with a distribution-free 95% interval of the median in the notes; over_floor is ours minus the floor.',
  run: (context) => runInject('koa', peerName('prometheus-api-metrics'), context),
};
