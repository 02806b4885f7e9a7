/**
 * Reads a Grafana dashboard JSON and runs its queries the way Grafana would send them to a
 * Prometheus data source: template variables and Grafana's built-in intervals substituted,
 * each panel target executed as an instant query. Written for any dashboard file, so a variant
 * with another metric naming is checked by the same code.
 *
 * Contract of {@link runPanelQuery}: a target whose query returns nothing, or only NaN/Inf
 * (what Grafana draws as "No data"), is an error naming the panel; a dashboard checked this way
 * has no empty panel against the traffic the test sent.
 */
import { readFileSync } from 'node:fs';

/** A template variable of the dashboard (the fields the checks read). */
export interface DashboardVariable {
  readonly name: string;
  readonly type: string;
  readonly query?: unknown;
  readonly datasource?: unknown;
  readonly multi?: boolean;
  readonly includeAll?: boolean;
  readonly allValue?: string;
}

/** A panel target (one query). */
export interface DashboardTarget {
  readonly refId?: string;
  readonly expr?: string;
  readonly datasource?: unknown;
  readonly hide?: boolean;
}

/** A panel; rows carry their panels in `panels` when collapsed. */
export interface DashboardPanel {
  readonly id?: number;
  readonly type: string;
  readonly title?: string;
  readonly datasource?: unknown;
  readonly targets?: readonly DashboardTarget[];
  readonly panels?: readonly DashboardPanel[];
}

/** The parts of a dashboard JSON the checks read. */
export interface Dashboard {
  /** The database id of an exported dashboard; absent or null in a file meant for import. */
  readonly id?: number | null;
  readonly uid?: string;
  readonly title?: string;
  readonly schemaVersion?: number;
  readonly templating?: { readonly list?: readonly DashboardVariable[] };
  readonly panels?: readonly DashboardPanel[];
}

/** Reads and parses a dashboard JSON file. */
export function loadDashboard(file: string): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

/** Every panel, those inside collapsed rows included, in file order. */
export function allPanels(dashboard: Dashboard): DashboardPanel[] {
  const out: DashboardPanel[] = [];
  const walk = (panels: readonly DashboardPanel[] | undefined) => {
    for (const panel of panels ?? []) {
      out.push(panel);
      walk(panel.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

/** One query of one panel, named for failure messages. */
export interface PanelQuery {
  /** `"<panel title>" target <refId>`. */
  readonly name: string;
  readonly panel: DashboardPanel;
  readonly target: DashboardTarget;
  /** The PromQL as written in the dashboard, variables not substituted. */
  readonly expr: string;
}

/** Every visible (not hidden) target with a PromQL expression, of every panel. */
export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const panel of allPanels(dashboard)) {
    for (const target of panel.targets ?? []) {
      if (target.hide === true || target.expr === undefined) continue;
      out.push({
        name: `"${panel.title ?? `panel ${panel.id}`}" target ${target.refId ?? '?'}`,
        panel,
        target,
        expr: target.expr,
      });
    }
  }
  return out;
}

/** Raised when an expression uses a variable the caller gave no value for. */
export class UnknownVariableError extends Error {
  override readonly name = 'UnknownVariableError';
}

/**
 * Grafana's variable syntaxes: `${name}`, `${name:format}`, `[[name]]` and `$name` (the
 * longest run of word characters, so `$__rate_interval` is one name).
 */
const VARIABLE = /\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g;

/** Names of the variables `text` uses, in order of first use. */
export function variablesUsed(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(VARIABLE)) names.add((match[1] ?? match[2] ?? match[3])!);
  return [...names];
}

/**
 * Replaces every variable of `text` by its value in `values`, as Grafana interpolates a query
 * before sending it. Throws UnknownVariableError for a variable without a value, so a query
 * is never sent with a `$` left in it.
 */
export function substituteVariables(text: string, values: Readonly<Record<string, string>>) {
  return text.replace(VARIABLE, (whole, braced?: string, bracketed?: string, bare?: string) => {
    const name = (braced ?? bracketed ?? bare)!;
    const value = values[name];
    if (value === undefined) {
      throw new UnknownVariableError(`no value for the variable ${whole} in: ${text}`);
    }
    return value;
  });
}

/**
 * A value chosen for a variable used inside a PromQL regex matcher (`=~"$job"`), escaped as
 * Grafana's Prometheus data source does it: regex metacharacters get a backslash, doubled
 * because the regex sits in a PromQL string literal. Several values become an alternation.
 */
export function regexValue(values: readonly string[]): string {
  const escaped = values.map((v) => v.replace(/[\\^$*+?.()|{}[\]]/g, '\\\\$&'));
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
}

/**
 * Parses a `label_values(<selector>, <label>)` variable query (Grafana's Prometheus variable
 * syntax; the query is a string or `{ query }` depending on the Grafana version).
 */
export function labelValuesQuery(variable: DashboardVariable): { match: string; label: string } {
  const raw = variable.query;
  const text =
    typeof raw === 'string'
      ? raw
      : typeof raw === 'object' && raw !== null && 'query' in raw
        ? String((raw as { query: unknown }).query)
        : '';
  const match = /^\s*label_values\(\s*(.+)\s*,\s*(\w+)\s*\)\s*$/.exec(text);
  if (!match) {
    throw new Error(
      `variable ${variable.name}: expected label_values(<selector>, <label>), got ${JSON.stringify(raw)}`,
    );
  }
  return { match: match[1]!, label: match[2]! };
}

/** Metric selectors `name{...}` of an expression: the metric name and the matcher text. */
export function selectors(expr: string): Array<{ metric: string; matchers: string }> {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)].map((m) => ({
    metric: m[1]!,
    matchers: m[2]!,
  }));
}

/**
 * The fallback that makes a panel of a counter declared only at its first event show 0 instead
 * of "No data" (`... or on() vector(0)`).
 */
export const ZERO_FALLBACK = /\s+or\s+on\s*\(\s*\)\s*vector\(0\)/g;

/** The expression without its zero fallbacks: what must return data on its own. */
export function withoutZeroFallback(expr: string): string {
  return expr.replace(ZERO_FALLBACK, '');
}

/** An instant-query client (the e2e tests' Prometheus server, or a stand-in). */
export interface InstantQuery {
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: number }>>;
}

/**
 * Runs one panel query (variables already substituted) and returns its samples. Rejects,
 * naming the panel and the query, when the result is empty or holds no finite value: such a
 * panel would show "No data" in Grafana.
 */
export async function runPanelQuery(
  prometheus: InstantQuery,
  name: string,
  promql: string,
): Promise<Array<{ metric: Record<string, string>; value: number }>> {
  const samples = await prometheus.query(promql);
  if (samples.length === 0) throw new Error(`${name} returned no data: ${promql}`);
  if (!samples.some((s) => Number.isFinite(s.value))) {
    const values = samples.map((s) => s.value).join(', ');
    throw new Error(`${name} returned no finite value (${values}): ${promql}`);
  }
  return samples;
}
