/**
 * The example Grafana dashboards, proven against a real Prometheus server (Debian package
 * `prometheus`): it scrapes an example cluster every second while known traffic is sent (every
 * route, 4xx and 5xx), then every panel query of the dashboard, with its template variables
 * resolved by the dashboard's own variable queries and `$__rate_interval` substituted, runs
 * through Prometheus' HTTP API and must return data. The request-rate panel's counter must
 * hold exactly the responses sent, per route and status.
 *
 * Parameterised by dashboard file and the example's environment (DASHBOARDS): the default
 * dashboard against the example as it ships, the OpenTelemetry variant against the example
 * started with `PROMFORK_CONVENTIONS=opentelemetry`, by the same code. The structural checks run everywhere; the Prometheus part is
 * skipped, with the reason, where the binary is absent, and fails instead when CI is set.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SERIES_DROPPED_TOTAL } from '@promfork/core';
import type * as FileStoreModule from '../packages/core/src/file-store/index.js';
import { UNMATCHED_ROUTE } from './helpers/cluster-scenario.js';
import {
  allPanels,
  type Dashboard,
  labelValuesQuery,
  loadDashboard,
  type PanelQuery,
  panelQueries,
  regexValue,
  runPanelQuery,
  selectors,
  substituteVariables,
  variablesUsed,
  withoutZeroFallback,
} from './helpers/grafana.js';
import type { ClusterKind } from './helpers/processes.js';
import {
  type PrometheusServer,
  prometheusForTest,
  waitForUp,
  waitForValue,
} from './helpers/prometheus.js';
import { type ScrapedCluster, startScrapedCluster } from './helpers/scraped-cluster.js';
import {
  type PlannedRequest,
  planFailures,
  planRequests,
  sendPlan,
  sortedObject,
} from './helpers/traffic.js';

// The store's counters declared only at their first event, loaded from the compiled core
// (they are not part of its public API); this file runs from test/dist.
const { COMPACTION_ERRORS_METRIC, CONFLICTS_METRIC, TORN_READS_METRIC } = (await import(
  new URL('../../packages/core/dist/src/file-store/index.js', import.meta.url).href
)) as typeof FileStoreModule;

/**
 * Metrics promfork declares only when their first event happens (a torn read, a conflict, a
 * failed compaction, a series over the limit): absent from a healthy cluster, so a panel on
 * them must fall back to 0 (`or on() vector(0)`) to show data. Any other metric a dashboard
 * names must be stored by Prometheus after the test's traffic.
 */
const DECLARED_AT_FIRST_EVENT = new Set([
  TORN_READS_METRIC.name,
  CONFLICTS_METRIC.name,
  COMPACTION_ERRORS_METRIC.name,
  SERIES_DROPPED_TOTAL,
]);

/** One dashboard file and the example it is checked against. */
interface DashboardCase {
  /** Path from the repository root. */
  readonly file: string;
  /** The example cluster Prometheus scrapes. */
  readonly example: ClusterKind;
  /** Environment the example starts with (its naming preset, examples/shared/conventions.ts). */
  readonly env?: NodeJS.ProcessEnv;
  /** The route label of requests no route matched; empty is how Prometheus shows an unset label. */
  readonly unmatchedRoute: string;
  /** Title of the panel whose counter must equal the traffic sent. */
  readonly requestRatePanel: string;
  /** Labels of that panel's counter: the field of a planned request each one carries. */
  readonly requestLabels: Readonly<Record<string, 'method' | 'route' | 'status'>>;
}

const DASHBOARDS: readonly DashboardCase[] = [
  {
    file: 'examples/grafana/promfork-http.json',
    example: 'express',
    requestRatePanel: 'Request rate by route and status',
    unmatchedRoute: UNMATCHED_ROUTE,
    requestLabels: { method: 'method', route: 'route', status_code: 'status' },
  },
  {
    // The OpenTelemetry preset has no request counter: the panel counts the histogram's _count.
    file: 'examples/grafana/promfork-http-otel.json',
    example: 'express',
    env: { PROMFORK_CONVENTIONS: 'opentelemetry' },
    requestRatePanel: 'Request rate by route and status',
    // The convention leaves http.route unset when no route matched.
    unmatchedRoute: '',
    requestLabels: {
      http_request_method: 'method',
      http_route: 'route',
      http_response_status_code: 'status',
    },
  },
];

/** Grafana's built-in variables, as the panels would get them over the test's time range. */
const BUILTINS = {
  // The traffic is a few seconds old when the queries run: a window of minutes covers it
  // whatever the machine's load (Grafana's own choice would be four scrape intervals).
  __rate_interval: '5m',
  __interval: '15s',
  __range: '5m',
};

const JOB = 'promfork-dashboard';
const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The request-rate panel's shape, `sum by (<labels>) (rate(<counter selector>[$__rate_interval]))`:
 * its grouping labels and the counter's selector, so the test can read the raw counter the
 * panel is computed from (rate() extrapolates; the counter is exact).
 */
function requestRateParts(expr: string): { by: string[]; selector: string } {
  const match = /^\s*sum\s+by\s*\(([^)]*)\)\s*\(\s*rate\((.+)\[\$__rate_interval\]\)\s*\)\s*$/.exec(
    expr,
  );
  if (!match) {
    throw new Error(
      `the request-rate panel must be sum by (<labels>) (rate(<counter>[$__rate_interval])), got ${expr}`,
    );
  }
  return { by: match[1]!.split(',').map((l) => l.trim()), selector: match[2]! };
}

function requestRateQuery(dashboard: Dashboard, c: DashboardCase): PanelQuery {
  const queries = panelQueries(dashboard).filter((q) => q.panel.title === c.requestRatePanel);
  assert.equal(queries.length, 1, `one query in the panel "${c.requestRatePanel}"`);
  return queries[0]!;
}

/** The dashboard's variables (datasource, job, instance) and where each is used. */
function checkStructure(dashboard: Dashboard, c: DashboardCase): void {
  assert.ok(dashboard.uid, 'a uid, so a re-import replaces the dashboard');
  assert.ok(dashboard.id === undefined || dashboard.id === null, 'no database id (import)');
  assert.ok(dashboard.title);
  // Grafana 10.0 writes schema 38, 10.4 writes 39; older numbers are migrated on import.
  assert.ok((dashboard.schemaVersion ?? 0) >= 36, `schemaVersion ${dashboard.schemaVersion}`);

  const variables = dashboard.templating?.list ?? [];
  const datasource = variables.find((v) => v.type === 'datasource');
  assert.ok(datasource, 'a data source variable, so the importer picks their Prometheus');
  assert.equal(datasource.query, 'prometheus');
  const dsRef = { type: 'prometheus', uid: `\${${datasource.name}}` };
  for (const name of ['job', 'instance']) {
    const variable = variables.find((v) => v.name === name);
    assert.ok(variable, `a ${name} variable`);
    assert.equal(variable.type, 'query');
    assert.deepEqual(variable.datasource, dsRef, `variable ${name} queries the chosen source`);
    labelValuesQuery(variable);
  }

  const ids = new Set<number>();
  for (const panel of allPanels(dashboard)) {
    assert.ok(panel.id !== undefined && !ids.has(panel.id), `panel ids unique: ${panel.title}`);
    ids.add(panel.id);
    if (panel.type === 'row') continue;
    assert.deepEqual(panel.datasource, dsRef, `"${panel.title}" uses the data source variable`);
    const targets = panel.targets ?? [];
    assert.ok(targets.length > 0, `"${panel.title}" has a query`);
    const refIds = targets.map((t) => t.refId);
    assert.equal(new Set(refIds).size, refIds.length, `"${panel.title}" refIds unique`);
    for (const target of targets) assert.deepEqual(target.datasource, dsRef);
  }

  // Every query in the file is one the checks run (none hidden, none missed by the walk).
  const exprs = readFileSync(join(REPO, c.file), 'utf8').match(/"expr"\s*:/g) ?? [];
  assert.equal(panelQueries(dashboard).length, exprs.length, 'every query is checked');

  const known = new Set([...variables.map((v) => v.name), ...Object.keys(BUILTINS)]);
  for (const query of panelQueries(dashboard)) {
    for (const name of variablesUsed(query.expr)) {
      assert.ok(known.has(name), `${query.name} uses the undefined variable $${name}`);
    }
    const found = selectors(query.expr);
    assert.ok(found.length > 0, `${query.name} selects a metric`);
    for (const { metric, matchers } of found) {
      assert.match(matchers, /\bjob=~"\$job"/, `${query.name}: ${metric} filtered by $job`);
      assert.match(matchers, /\binstance=~"\$instance"/, `${query.name}: ${metric} by $instance`);
    }
  }
  requestRateParts(requestRateQuery(dashboard, c).expr);
}

/**
 * Resolves the template variables the way Grafana does on load: each `label_values` query
 * runs against Prometheus (job first, since instance's query uses it); the job is the test's,
 * every instance is selected. Returns the values to substitute.
 */
async function resolveVariables(
  dashboard: Dashboard,
  server: PrometheusServer,
  target: string,
): Promise<Record<string, string>> {
  const variables = dashboard.templating?.list ?? [];
  const values: Record<string, string> = { ...BUILTINS };
  const datasource = variables.find((v) => v.type === 'datasource')!;
  values[datasource.name] = 'prometheus';

  const job = labelValuesQuery(variables.find((v) => v.name === 'job')!);
  const jobs = await server.labelValues(job.label, substituteVariables(job.match, values));
  assert.ok(jobs.includes(JOB), `the job variable lists ${JOB}: ${jobs.join(', ')}`);
  values.job = regexValue([JOB]);

  const instance = labelValuesQuery(variables.find((v) => v.name === 'instance')!);
  const instances = await server.labelValues(
    instance.label,
    substituteVariables(instance.match, values),
  );
  assert.deepEqual(instances, [target], 'the instance variable lists the scraped example');
  values.instance = regexValue(instances);
  return values;
}

/** `sent` counted by the panel's grouping labels, keyed like {@link seriesKey}. */
function expectedByLabels(
  sent: readonly PlannedRequest[],
  labels: readonly string[],
  c: DashboardCase,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of sent) {
    const key = labels
      .map((label) => {
        const field = c.requestLabels[label];
        assert.ok(field, `the request-rate panel groups by ${label}, which the case maps`);
        return `${label}=${request[field]}`;
      })
      .join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function seriesKey(metric: Record<string, string>, labels: readonly string[]): string {
  // Prometheus drops an empty label from a series: absent and "" are the same value.
  return labels.map((label) => `${label}=${metric[label] ?? ''}`).join(' ');
}

for (const c of DASHBOARDS) {
  describe(`Grafana dashboard ${c.file}`, () => {
    const dashboard = loadDashboard(join(REPO, c.file));
    let run: ScrapedCluster | undefined;

    after(async () => {
      await run?.stop();
    });

    it('is importable: a data source variable, job and instance variables used by every query', () => {
      checkStructure(dashboard, c);
    });

    it(`every panel query returns data from a real Prometheus scraping the ${c.example} example`, async (t) => {
      const binary = prometheusForTest(t);
      if (binary === undefined) return;
      run = await startScrapedCluster(binary, c.example, { workers: 2, jobName: JOB, env: c.env });
      const { cluster, prometheus: server } = run;

      // Two rounds of every route (4xx and 5xx included), with a stored scrape between them:
      // rate() needs each series to grow between two samples.
      const round = (offset: number) => [
        ...planRequests(24, c.unmatchedRoute, offset),
        ...planFailures(4),
      ];
      const first = await sendPlan(cluster.url, round(0));
      await waitForUp(server, JOB);
      const values = await resolveVariables(dashboard, server, new URL(cluster.url).host);

      const requestRate = requestRateQuery(dashboard, c);
      const { by, selector } = requestRateParts(requestRate.expr);
      const counter = substituteVariables(selector, values);
      await waitForValue(server, `sum(${counter})`, first.length);
      const second = await sendPlan(cluster.url, round(24));
      const sent = [...first, ...second];

      // The panel's counter holds exactly the responses sent, in total and per panel series.
      await waitForValue(server, `sum(${counter})`, sent.length);
      const stored = await server.query(`sum by (${by.join(', ')}) (${counter})`);
      assert.deepEqual(
        sortedObject(new Map(stored.map((s) => [seriesKey(s.metric, by), s.value]))),
        sortedObject(expectedByLabels(sent, by, c)),
      );

      // Every panel query returns data. Each metric it names is stored, or is one promfork
      // declares at its first event (then the query's zero fallback is what shows); a query
      // on stored metrics only must return data without its fallback too.
      const storedNames = new Set(
        (await server.query(`count by (__name__) ({job="${JOB}"})`)).map((s) => s.metric.__name__),
      );
      const queries = panelQueries(dashboard);
      for (const query of queries) {
        const promql = substituteVariables(query.expr, values);
        await runPanelQuery(server, query.name, promql);
        const names = selectors(promql).map((s) => s.metric);
        for (const name of names) {
          assert.ok(
            storedNames.has(name) || DECLARED_AT_FIRST_EVENT.has(name),
            `${query.name}: no metric ${name} in Prometheus, and promfork declares no such metric lazily`,
          );
        }
        if (names.every((name) => storedNames.has(name))) {
          await runPanelQuery(
            server,
            `${query.name} (without zero fallback)`,
            withoutZeroFallback(promql),
          );
        }
      }

      // The same check rejects a panel that shows nothing: a misspelt counter name.
      const { metric } = selectors(requestRate.expr)[0]!;
      const misspelt = substituteVariables(
        requestRate.expr.replace(`${metric}{`, `${metric}_misspelt{`),
        values,
      );
      await assert.rejects(runPanelQuery(server, requestRate.name, misspelt), /returned no data/);
    });
  });
}
