/**
 * The Express cluster example: `node examples/dist/express-cluster/server.js`.
 *
 * A node:cluster primary that prepares PROMETHEUS_MULTIPROC_DIR (or a fresh temporary
 * directory), forks WORKERS workers (default 4) listening on 127.0.0.1:PORT (default 3000;
 * 0 picks a free port) and replaces any worker that dies. Every worker answers /metrics with
 * the numbers of all of them.
 */
import { fileURLToPath } from 'node:url';
import { runExample } from '../shared/main.js';

await runExample({
  name: 'express',
  defaultPort: 3000,
  workerScript: fileURLToPath(new URL('./worker.js', import.meta.url)),
});
