/**
 * One worker of the Express example (also the script PM2 runs in cluster mode). The metrics
 * store is chosen by PROMETHEUS_MULTIPROC_DIR, which the primary (or PM2) puts in the env.
 */
import { createServer } from 'node:http';
import { runWorker } from '../shared/worker.js';
import { createApp } from './app.js';

await runWorker({
  defaultPort: 3000,
  start: (host, port) =>
    new Promise((resolve, reject) => {
      const server = createServer(createApp());
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve({
          close: () =>
            new Promise<void>((done, fail) =>
              server.close((error) => (error ? fail(error) : done())),
            ),
        });
      });
    }),
});
