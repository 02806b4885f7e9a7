/**
 * One worker of the Koa example. The metrics store is chosen by PROMETHEUS_MULTIPROC_DIR,
 * which the primary (or PM2) puts in the environment.
 */
import { listenHttp, runWorker } from '../shared/worker.js';
import { createApp } from './app.js';

await runWorker({
  defaultPort: 3001,
  start: (host, port) => listenHttp(createApp().callback(), host, port),
});
