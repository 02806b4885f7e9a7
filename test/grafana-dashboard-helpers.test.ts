/**
 * The dashboard checker itself (helpers/grafana.ts), without Prometheus: a panel query that
 * returns nothing must fail the check, variables must all be substituted, and values must be
 * escaped the way Grafana escapes them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type InstantQuery,
  labelValuesQuery,
  regexValue,
  runPanelQuery,
  substituteVariables,
  UnknownVariableError,
  variablesUsed,
  withoutZeroFallback,
} from './helpers/grafana.js';

/** A stand-in Prometheus answering every query with `result`, and recording the queries. */
function stub(result: Array<{ metric: Record<string, string>; value: number }>) {
  const queries: string[] = [];
  const prometheus: InstantQuery = {
    async query(promql) {
      queries.push(promql);
      return result;
    },
  };
  return { prometheus, queries };
}

describe('runPanelQuery', () => {
  it('rejects a query that returns no data (a deliberately misspelt metric)', async () => {
    const { prometheus, queries } = stub([]);
    await assert.rejects(
      runPanelQuery(prometheus, '"Request rate" target A', 'sum(rate(http_request_totl[1m]))'),
      /"Request rate" target A returned no data: sum\(rate\(http_request_totl\[1m\]\)\)/,
    );
    assert.deepEqual(queries, ['sum(rate(http_request_totl[1m]))']);
  });

  it('rejects a query whose every value is NaN (Grafana shows no data)', async () => {
    const { prometheus } = stub([{ metric: { route: '/' }, value: Number.NaN }]);
    await assert.rejects(runPanelQuery(prometheus, 'p99', 'histogram_quantile(...)'), /no finite/);
  });

  it('returns the samples when at least one value is finite', async () => {
    const samples = [
      { metric: { route: '/' }, value: Number.NaN },
      { metric: { route: '/users/:userId' }, value: 0.25 },
    ];
    const { prometheus } = stub(samples);
    assert.deepEqual(await runPanelQuery(prometheus, 'p99', 'q'), samples);
  });
});

/** Grafana's `${name}` syntax, built so it is not mistaken for a JavaScript template. */
const BRACED = (name: string) => `$\{${name}}`;

describe('substituteVariables', () => {
  const values = { __rate_interval: '5m', job: 'api', instance: 'a:1' };

  it('replaces every syntax Grafana accepts', () => {
    const query = `rate(x{job=~"$job",i=~"${BRACED('instance')}",j="[[job]]"}[$__rate_interval])`;
    assert.equal(substituteVariables(query, values), 'rate(x{job=~"api",i=~"a:1",j="api"}[5m])');
    assert.equal(substituteVariables(BRACED('job:regex'), values), 'api');
  });

  it('throws on a variable without a value instead of sending a $ to Prometheus', () => {
    assert.throws(
      () => substituteVariables('rate(x[$__interval])', values),
      (error: Error) => error instanceof UnknownVariableError && /\$__interval/.test(error.message),
    );
  });

  it('lists the variables used, $__rate_interval as one name', () => {
    assert.deepEqual(variablesUsed(`a{j=~"$job"}[$__rate_interval] ${BRACED('job')}`), [
      'job',
      '__rate_interval',
    ]);
  });
});

describe('regexValue', () => {
  it('escapes regex metacharacters for a PromQL string, and joins several values', () => {
    assert.equal(regexValue(['127.0.0.1:9100']), '127\\\\.0\\\\.0\\\\.1:9100');
    assert.equal(regexValue(['a', 'b+']), '(a|b\\\\+)');
  });
});

describe('labelValuesQuery', () => {
  it('reads the query as a string or as Grafana 10 object', () => {
    const expected = { match: 'up{job=~"$job"}', label: 'instance' };
    const query = 'label_values(up{job=~"$job"}, instance)';
    assert.deepEqual(labelValuesQuery({ name: 'i', type: 'query', query }), expected);
    assert.deepEqual(labelValuesQuery({ name: 'i', type: 'query', query: { query } }), expected);
  });

  it('rejects another kind of variable query', () => {
    assert.throws(() => labelValuesQuery({ name: 'i', type: 'query', query: 'metrics(.*)' }));
  });
});

describe('withoutZeroFallback', () => {
  it('removes every "or on() vector(0)"', () => {
    assert.equal(
      withoutZeroFallback('(sum(a) or on() vector(0)) / sum(b) or on () vector(0)'),
      '(sum(a)) / sum(b)',
    );
  });
});
