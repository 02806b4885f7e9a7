/**
 * Faults with real processes, on the cluster examples (a node:cluster primary, 4 workers,
 * loopback only), for Express and Fastify:
 *
 * - Crash storm: while clients send requests, workers are SIGKILLed at random moments and the
 *   primary replaces them. Afterwards every scrape's `http_requests_total` is compared with the
 *   responses the clients received, label set by label set. A client counts only responses it
 *   read completely; a request cut off by a kill is not counted by either side. The store's
 *   contract allows a killed worker to lose the updates of its last event-loop turn, so the
 *   test requires `0 <= received - counted <= kills` for every label set and never more counted
 *   than received (nothing doubled), and prints the difference (expected 0). Damaged files of
 *   every kind are dropped into the live directory before the final scrapes: still 200, still
 *   exact.
 * - Blocked worker: one worker is stopped (SIGSTOP: it runs no JavaScript at all, as in a busy
 *   loop) for 3 s (10 s in full mode). Scrapes that land on other workers answer, and include
 *   the blocked worker's last flushed counts; scrapes that land on it wait (bounded client
 *   timeout) and are not counted.
 *
 * Quick mode (default): 10 kills per framework. PROMFORK_FULL=1: 100 kills.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from './helpers/deadline.js';
import { parseExposition, sumBy } from './helpers/exposition.js';
import { request } from './helpers/http.js';
import {
  type ClusterKind,
  type ExampleCluster,
  processAlive,
  startExampleCluster,
} from './helpers/processes.js';
import { planRequests } from './helpers/traffic.js';

const FULL = process.env.PROMFORK_FULL === '1';
const KILLS = FULL ? 100 : 10;
const BLOCK_MS = FULL ? 10_000 : 3_000;
const WORKERS = 4;
const CLIENTS = FULL ? 4 : 2;
const LABELS = ['method', 'route', 'status_code'] as const;

/** Counts of `http_requests_total` of the app's routes in one scrape, by label set. */
function requestCounts(body: string): Map<string, number> {
  return sumBy(
    parseExposition(body),
    'http_requests_total',
    LABELS,
    (s) => s.labels.route !== '/metrics',
  );
}

/** A scrape that answered 200 (retried past workers that die under it), bounded. */
async function scrape(url: string): Promise<{ body: string; servedBy: string }> {
  return waitFor(
    'a successful scrape',
    async () => {
      const res = await request(`${url}/metrics`, { timeoutMs: 3000 });
      return res.status === 200
        ? { body: res.body, servedBy: String(res.headers['x-served-by']) }
        : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 50 },
  );
}

/** Drops one file of each damaged kind into the live directory, built from a real file. */
function dropDamagedFiles(dir: string): number {
  const real = readdirSync(dir).find((n) => /^promfork-\d+-.*\.db$/.test(n));
  assert.ok(real, 'a live process file to copy');
  const good = readFileSync(join(dir, real));
  // Cut inside the area the header covers: a cut beyond it would leave a valid copy (a forged
  // duplicate of a live process), not a damaged file.
  const used = good.readUInt32LE(16);
  const newer = Buffer.from(good);
  newer.writeUInt32LE(99, 8);
  const magic = Buffer.from(good);
  magic.write('NOTMAGIC', 0, 'latin1');
  const damaged = [
    Buffer.alloc(0),
    good.subarray(0, 64),
    good.subarray(0, used - 12),
    randomBytes(4096),
    magic,
    newer,
  ];
  for (const [i, bytes] of damaged.entries()) {
    writeFileSync(join(dir, `promfork-${990_001 + i}-1.db`), bytes);
  }
  return damaged.length;
}

const results: string[] = [];
after(() => {
  for (const line of results) console.log(line);
});

for (const framework of ['express', 'fastify'] as ClusterKind[]) {
  describe(`${framework}: faults with real processes`, () => {
    let dir: string;
    let cluster: ExampleCluster | undefined;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `promfork-faults-${framework}-`));
      cluster = await startExampleCluster(framework, { workers: WORKERS, dir });
    });
    after(async () => {
      await cluster?.program.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    it(`crash storm: ${KILLS} SIGKILLs under load, every scrape counts what clients received`, async () => {
      assert.ok(cluster);
      const c = cluster;
      const received = new Map<string, number>();
      let failed = 0;
      let stop = false;
      let sent = 0;
      const client = async (lane: number) => {
        while (!stop) {
          const [planned] = planRequests(1, '#unmatched', sent++ * CLIENTS + lane);
          if (planned === undefined) continue;
          try {
            const res = await request(c.url + planned.path, {
              method: planned.method,
              timeoutMs: 5000,
              ...(planned.method === 'POST'
                ? { body: '{}', headers: { 'content-type': 'application/json' } }
                : {}),
            });
            assert.equal(res.status, planned.status, `${planned.method} ${planned.path}`);
            const key = `${planned.method} ${planned.route} ${planned.status}`;
            received.set(key, (received.get(key) ?? 0) + 1);
          } catch (error) {
            if (error instanceof assert.AssertionError) throw error;
            failed++; // cut off by a kill: counted by neither side
          }
        }
      };
      const clients = Array.from({ length: CLIENTS }, (_, lane) => client(lane));

      let kills = 0;
      try {
        while (kills < KILLS) {
          await sleep(20 + Math.random() * 150);
          const pids = c.workerPids();
          const victim = pids[Math.floor(Math.random() * pids.length)];
          if (victim === undefined || !processAlive(victim)) continue;
          const from = c.program.stdout.length;
          process.kill(victim, 'SIGKILL');
          kills++;
          // Keep 4 workers serving: wait for the death to be seen and the replacement to listen
          // before the next kill (so no kill hits a process that is already dead).
          await c.program.waitForLine(new RegExp(` pid=${victim} died`), 15_000, from);
          await c.program.waitForLine(/ pid=\d+ listening on /, 15_000, from);
        }
      } finally {
        stop = true;
        await Promise.all(clients);
      }
      const total = [...received.values()].reduce((a, b) => a + b, 0);
      assert.ok(total > KILLS * 5, `only ${total} responses were received`);

      const damaged = dropDamagedFiles(dir);
      const scrapers = new Set<string>();
      let worst = 0;
      for (let i = 0; i < 8; i++) {
        const { body, servedBy } = await scrape(c.url);
        scrapers.add(servedBy);
        const counted = requestCounts(body);
        for (const key of new Set([...received.keys(), ...counted.keys()])) {
          const got = counted.get(key) ?? 0;
          const want = received.get(key) ?? 0;
          assert.ok(
            got <= want,
            `scrape ${i} (pid ${servedBy}): ${key} counted ${got} > received ${want}`,
          );
          worst = Math.max(worst, want - got);
        }
        assert.match(
          body,
          /^promfork_store_read_errors_total [1-9]/m,
          'the damaged files were skipped and counted',
        );
      }
      assert.ok(worst <= kills, `lost ${worst} counts in ${kills} kills`);
      results.push(
        `crash storm ${framework}: ${kills} kills survived, ${total} responses received, ` +
          `${failed} requests cut off, largest difference received-counted in 8 scrapes ` +
          `from ${scrapers.size} workers: ${worst}; ${damaged} damaged files skipped`,
      );
    });

    it(`blocked worker (${BLOCK_MS / 1000} s): other workers answer with its flushed counts`, async () => {
      assert.ok(cluster);
      const c = cluster;
      const before = requestCounts((await scrape(c.url)).body);
      // Traffic that reaches every worker, then one of them stops running code.
      const plan = planRequests(40, '#unmatched', 1_000_000);
      for (const planned of plan) {
        const res = await request(c.url + planned.path, {
          method: planned.method,
          ...(planned.method === 'POST'
            ? { body: '{}', headers: { 'content-type': 'application/json' } }
            : {}),
        });
        assert.equal(res.status, planned.status);
      }
      const expected = new Map(before);
      for (const p of plan) {
        const key = `${p.method} ${p.route} ${p.status}`;
        expected.set(key, (expected.get(key) ?? 0) + 1);
      }
      // Let every worker finish the turn that recorded its last response.
      await waitFor(
        'all responses to be counted',
        async () => {
          const counted = requestCounts((await scrape(c.url)).body);
          return [...expected].every(([k, v]) => counted.get(k) === v) ? true : undefined;
        },
        { timeoutMs: 5000, intervalMs: 50 },
      );
      const blocked = c.workerPids()[0]!;
      process.kill(blocked, 'SIGSTOP');
      const answered: string[] = [];
      let waited = 0;
      try {
        const until = Date.now() + BLOCK_MS;
        while (Date.now() < until) {
          try {
            const res = await request(`${c.url}/metrics`, { timeoutMs: 500 });
            assert.equal(res.status, 200);
            const servedBy = String(res.headers['x-served-by']);
            assert.notEqual(servedBy, String(blocked));
            const counted = requestCounts(res.body);
            for (const [key, value] of expected) {
              assert.equal(
                counted.get(key),
                value,
                `scrape by ${servedBy} during the block: ${key}`,
              );
            }
            answered.push(servedBy);
          } catch (error) {
            if (error instanceof assert.AssertionError) throw error;
            waited++; // landed on the blocked worker
          }
        }
      } finally {
        process.kill(blocked, 'SIGCONT');
      }
      assert.ok(answered.length > 0, 'scrapes were answered while a worker was blocked');
      assert.ok(new Set(answered).size >= 2, 'by more than one of the other workers');
      results.push(
        `blocked worker ${framework}: ${BLOCK_MS / 1000} s stopped, ${answered.length} scrapes ` +
          `answered by ${new Set(answered).size} other workers with its counts, ${waited} waited on it`,
      );
    });
  });
}
