/**
 * The Koa cluster example: `node examples/dist/koa-cluster/server.js`.
 *
 * The same primary as the Express example (examples/shared/primary.ts), with Koa workers on
 * 127.0.0.1:PORT (default 3001; 0 picks a free port).
 */
import { fileURLToPath } from 'node:url';
import { runExample } from '../shared/main.js';

await runExample({
  name: 'koa',
  defaultPort: 3001,
  workerScript: fileURLToPath(new URL('./worker.js', import.meta.url)),
});
