/**
 * Reads Prometheus text exposition (format 0.0.4) into samples, so tests can assert on what a
 * scrape really returned. Written independently of @promfork/core's renderer on purpose: a
 * test that parsed with the code under test could not catch its mistakes.
 */

/** One sample line: `name{labels} value [timestamp]`. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function parseValue(raw: string, line: string): number {
  if (raw === '+Inf') return Number.POSITIVE_INFINITY;
  if (raw === '-Inf') return Number.NEGATIVE_INFINITY;
  if (raw === 'NaN') return Number.NaN;
  const value = Number(raw);
  if (raw === '' || Number.isNaN(value)) throw new Error(`bad sample value in line: ${line}`);
  return value;
}

/** Parses the `{a="1",b="x\"y"}` part starting at `start` (the `{`); returns labels and end. */
function parseLabels(line: string, start: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const eq = line.indexOf('=', i);
    if (eq < 0 || line[eq + 1] !== '"') throw new Error(`bad label set in line: ${line}`);
    const name = line.slice(i, eq).trim();
    let value = '';
    let j = eq + 2;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] === '\\') {
        j++;
        const escaped = line[j];
        value += escaped === 'n' ? '\n' : (escaped ?? '');
      } else {
        value += line[j];
      }
    }
    if (j >= line.length) throw new Error(`unterminated label value in line: ${line}`);
    if (name in labels) throw new Error(`label ${name} repeated in line: ${line}`);
    labels[name] = value;
    i = j + 1;
  }
}

/** Parses every sample line; comment and blank lines are skipped. Throws on a malformed line. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    let name: string;
    let labels: Record<string, string> = {};
    let rest: string;
    if (brace >= 0 && (space < 0 || brace < space)) {
      name = line.slice(0, brace);
      const parsed = parseLabels(line, brace);
      labels = parsed.labels;
      rest = line.slice(parsed.end).trim();
    } else {
      if (space < 0) throw new Error(`sample line without a value: ${line}`);
      name = line.slice(0, space);
      rest = line.slice(space + 1).trim();
    }
    const [rawValue = ''] = rest.split(/\s+/);
    samples.push({ name, labels, value: parseValue(rawValue, line) });
  }
  return samples;
}

/**
 * Sums the samples named `name` by the given label names, e.g. `countBy(s,
 * 'http_requests_total', ['method', 'route', 'status_code'])` gives `{"GET /x 200": 3}`-like
 * keys (label values joined by a space). Samples for which `keep` returns false are ignored.
 */
export function sumBy(
  samples: readonly Sample[],
  name: string,
  labelNames: readonly string[],
  keep: (sample: Sample) => boolean = () => true,
): Map<string, number> {
  const sums = new Map<string, number>();
  for (const sample of samples) {
    if (sample.name !== name || !keep(sample)) continue;
    const key = labelNames.map((label) => sample.labels[label] ?? '').join(' ');
    sums.set(key, (sums.get(key) ?? 0) + sample.value);
  }
  return sums;
}
