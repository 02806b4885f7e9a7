/**
 * The end-to-end scenario every framework's cluster example must pass, run against the
 * compiled example as a real process tree (primary + workers):
 *
 * 1. send requests over every route, each on its own connection so all workers get some;
 * 2. scrape /metrics several times (each scrape lands on some worker): every scrape counts
 *    every response, by method, route template and status, exactly;
 * 3. SIGKILL one worker while no request is in flight; the primary replaces it;
 * 4. send more requests and scrape again: the dead worker's counts are still there, so the
 *    totals still add up exactly, and its file has been compacted away: the directory holds
 *    one file per live worker plus the archive (compacted by the examples' primary as the
 *    worker exits, or by a worker at a scrape under the PM2 stand-in);
 * 5. SIGTERM the primary: it stops its workers and exits 0.
 *
 * The kill happens between requests, not during one: a response the client never received
 * cannot be expected in the counts, and one the worker sent in the same event-loop turn as its
 * death may legitimately be lost (the store's documented at-most-one-turn window).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { waitFor } from './deadline.js';
import { parseExposition, type Sample, sumBy } from './exposition.js';
import { request } from './http.js';
import {
  type ClusterKind,
  type ExampleCluster,
  processAlive,
  startExampleCluster,
} from './processes.js';
import {
  expectedCounts,
  type PlannedRequest,
  planRequests,
  type SentRequest,
  sendPlan,
  sortedObject,
} from './traffic.js';

const WORKERS = 3;
const REQUESTS_PER_PHASE = 90;
const SCRAPES_PER_PHASE = 4;
const LABELS = ['method', 'route', 'status_code'] as const;

/** Route value the adapters give requests that match no route. */
export const UNMATCHED_ROUTE = '#unmatched';

/** Samples of the app's own routes: the scrapes themselves are not part of the plan. */
const appRoutes = (sample: Sample) => sample.labels.route !== '/metrics';

/** One scrape: who answered, and its request counts and histogram counts by series. */
async function scrape(cluster: ExampleCluster) {
  const res = await request(`${cluster.url}/metrics`);
  assert.equal(res.status, 200, `GET /metrics: ${res.body.slice(0, 300)}`);
  const samples = parseExposition(res.body);
  return {
    servedBy: String(res.headers['x-served-by']),
    requests: sortedObject(sumBy(samples, 'http_requests_total', LABELS, appRoutes)),
    observed: sortedObject(
      sumBy(samples, 'http_request_duration_seconds_count', LABELS, appRoutes),
    ),
  };
}

/**
 * Scrapes /metrics until one scrape counts exactly `sent` (bounded), then `times` more times:
 * each of those must count exactly `sent` too. Returns the pids that answered.
 *
 * Why wait for the first one: a worker records a response when it has handed it to the
 * kernel, so on a loaded machine the client can read the response (and send the next scrape
 * to another worker) before the worker that answered has recorded it. Once no request is in
 * flight the counts must settle on exactly the responses sent (a lost or doubled count never
 * does) and every later scrape, whichever worker answers it, must agree.
 */
async function scrapeAndCompare(
  cluster: ExampleCluster,
  sent: readonly PlannedRequest[],
  times: number,
): Promise<Set<string>> {
  const expected = sortedObject(expectedCounts(sent));
  let last: Awaited<ReturnType<typeof scrape>> | undefined;
  await waitFor(
    'a scrape that counts every response',
    async () => {
      last = await scrape(cluster);
      return isDeepStrictEqual(last.requests, expected) ? true : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  ).catch(() => {
    assert.deepEqual(
      last?.requests,
      expected,
      'http_requests_total never settled on the responses sent',
    );
  });
  const answeredBy = new Set<string>();
  for (let i = 1; i <= times; i++) {
    const result = await scrape(cluster);
    answeredBy.add(result.servedBy);
    const where = `scrape ${i} (answered by worker pid ${result.servedBy})`;
    assert.deepEqual(result.requests, expected, `${where}: http_requests_total`);
    assert.deepEqual(result.observed, expected, `${where}: http_request_duration_seconds_count`);
  }
  return answeredBy;
}

/** Name of the archive dead processes are compacted into (docs: packages/core/FORMAT.md). */
const ARCHIVE_FILE = 'promfork-archive.db';

/**
 * Undefined unless `dir` holds exactly one file per live worker (`promfork-<pid>-…db`) and
 * the archive; other names (temp files, locks) are ignored. Returns the listing otherwise.
 */
function liveFilesAndArchive(dir: string, livePids: readonly number[]): string[] | undefined {
  const files = readdirSync(dir).filter((name) => name.endsWith('.db'));
  const perPid = new Map<number, number>();
  for (const name of files) {
    if (name === ARCHIVE_FILE) continue;
    const match = name.match(/^promfork-(\d+)-/);
    if (!match) return undefined;
    const pid = Number(match[1]);
    perPid.set(pid, (perPid.get(pid) ?? 0) + 1);
  }
  const exact =
    files.includes(ARCHIVE_FILE) &&
    perPid.size === livePids.length &&
    livePids.every((pid) => perPid.get(pid) === 1);
  return exact ? files : undefined;
}

function pidsOf(sent: readonly SentRequest[]): Set<number> {
  return new Set(sent.map((r) => r.pid));
}

/** Registers the scenario for one cluster program (an example, or the PM2 stand-in). */
export function describeClusterScenario(kind: ClusterKind): void {
  describe(`${kind} cluster (real processes)`, () => {
    let dir: string;
    let cluster: ExampleCluster | undefined;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `promfork-e2e-${kind}-`));
      cluster = await startExampleCluster(kind, { workers: WORKERS, dir });
    });

    after(async () => {
      await cluster?.program.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    it('counts every response exactly in every scrape, across a worker being killed', async () => {
      assert.ok(cluster);
      const initialPids = cluster.workerPids();
      assert.equal(initialPids.length, WORKERS, cluster.program.describeOutput());

      // Phase 1: traffic over all workers, then several scrapes.
      const phase1 = await sendPlan(cluster.url, planRequests(REQUESTS_PER_PHASE, UNMATCHED_ROUTE));
      assert.deepEqual(
        [...pidsOf(phase1)].sort(),
        [...initialPids].sort(),
        'every worker served some of the requests',
      );
      const scrapers1 = await scrapeAndCompare(cluster, phase1, SCRAPES_PER_PHASE);

      // Phase 2: SIGKILL a worker and wait for the primary to replace it.
      const victim = initialPids[0]!;
      const from = cluster.program.stdout.length;
      process.kill(victim, 'SIGKILL');
      await cluster.program.waitForLine(
        new RegExp(` pid=${victim} died \\(signal SIGKILL\\)`),
        10_000,
        from,
      );
      await cluster.program.waitForLine(/ pid=\d+ listening on /, 30_000, from);
      await waitFor(
        'the killed worker to be gone',
        () => (processAlive(victim) ? undefined : true),
        {
          timeoutMs: 5000,
        },
      );
      const pidsAfterKill = cluster.workerPids();
      assert.equal(pidsAfterKill.length, WORKERS, cluster.program.describeOutput());
      assert.ok(!pidsAfterKill.includes(victim));

      const phase2 = await sendPlan(
        cluster.url,
        planRequests(REQUESTS_PER_PHASE, UNMATCHED_ROUTE, REQUESTS_PER_PHASE),
      );
      assert.deepEqual([...pidsOf(phase2)].sort(), [...pidsAfterKill].sort());
      const scrapers2 = await scrapeAndCompare(cluster, [...phase1, ...phase2], SCRAPES_PER_PHASE);

      // The killed worker's file was compacted away: live workers' files and one archive.
      let listing: string[] = [];
      await waitFor(
        'the directory to hold one file per live worker and the archive',
        () => {
          listing = readdirSync(dir);
          return liveFilesAndArchive(dir, pidsAfterKill);
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      ).catch((error: Error) => {
        assert.fail(
          `${error.message}; live pids ${pidsAfterKill.join(', ')}, files: ${listing.join(', ')}`,
        );
      });

      // Scrapes were answered by different workers, each showing everyone's counts.
      assert.ok(
        new Set([...scrapers1, ...scrapers2]).size > 1,
        'scrapes spread over more than one worker',
      );

      // A clean stop: the primary stops its workers and exits 0.
      const exit = await cluster.program.stop('SIGTERM', 10_000);
      assert.deepEqual(exit, { code: 0, signal: null }, cluster.program.describeOutput());
      for (const pid of pidsAfterKill)
        assert.ok(!processAlive(pid), `worker ${pid} outlived the primary`);
    });
  });
}
