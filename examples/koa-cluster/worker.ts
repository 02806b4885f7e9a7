/**
 * One worker of the Koa example. The metrics store is chosen by PROMETHEUS_MULTIPROC_DIR,
 * which the primary (or PM2) puts in the environment.
 */
import { createServer } from 'node:http';
import { runWorker } from '../shared/worker.js';
import { createApp } from './app.js';

await runWorker({
  defaultPort: 3001,
  start: (host, port) =>
    new Promise((resolve, reject) => {
      const server = createServer(createApp().callback());
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
