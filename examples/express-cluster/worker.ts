/**
 * One worker of the Express example (also the script PM2 runs in cluster mode). The metrics
 * store is chosen by PROMETHEUS_MULTIPROC_DIR, which the primary (or PM2) puts in the env.
 */
import { listenHttp, runWorker } from '../shared/worker.js';
import { createApp } from './app.js';

await runWorker({
  defaultPort: 3000,
  start: (host, port) => listenHttp(createApp(), host, port),
});
