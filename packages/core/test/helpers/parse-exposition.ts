/**
 * A strict parser for the two exposition formats, used only by tests to read rendered output
 * back and compare it with what was recorded.
 *
 * It is deliberately stricter than Prometheus' parsers where promfork's output is concerned
 * (single spaces, no trailing commas, no undefined escapes, canonical `le`/`quantile` in
 * OpenMetrics, suffix rules per type, no interleaved families), and follows Prometheus'
 * semantics where they change meaning (the text format's HELP skips leading blanks). Any
 * violation throws {@link ExpositionParseError} naming the line.
 */

/** Which grammar to parse. */
export type ExpositionSyntax = 'prometheus' | 'openmetrics';

/** An exemplar read from an OpenMetrics sample. */
export interface ParsedExemplar {
  readonly labels: Record<string, string>;
  readonly value: number;
  /** Seconds, as written. */
  readonly timestamp?: number;
}

/** One sample line. */
export interface ParsedSample {
  readonly name: string;
  /** Labels in the order written. */
  readonly labels: Record<string, string>;
  readonly value: number;
  /** As written: milliseconds in the text format, seconds in OpenMetrics. */
  readonly timestamp?: number;
  readonly exemplar?: ParsedExemplar;
  /** 1-based line number. */
  readonly line: number;
  /** Offset within the line just after the value (where a timestamp would go). */
  readonly valueEnd: number;
}

/** One metric family with its metadata and samples. */
export interface ParsedFamily {
  readonly name: string;
  /** `untyped` (text) or `unknown` (OpenMetrics) when no TYPE line was given. */
  type: string;
  /** Empty when no HELP line was given. */
  help: string;
  /** OpenMetrics UNIT; empty when absent. */
  unit: string;
  readonly samples: ParsedSample[];
}

/** Thrown for any input that is not valid output of the given syntax. */
export class ExpositionParseError extends Error {
  constructor(
    readonly lineNumber: number,
    message: string,
  ) {
    super(`line ${lineNumber}: ${message}`);
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const REAL_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL_NUMBER = /^(?:[+-]?inf(?:inity)?|nan)$/i;

const TEXT_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const OM_TYPES = new Set([
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'stateset',
  'info',
  'summary',
  'unknown',
]);

/** Sample-name suffixes each OpenMetrics type allows after the family name. */
const OM_SUFFIXES: Record<string, readonly string[]> = {
  counter: ['_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  gaugehistogram: ['_bucket', '_gsum', '_gcount'],
  stateset: [''],
  info: ['_info'],
  summary: ['', '_sum', '_count', '_created'],
  unknown: [''],
};

/** Suffixes a text-format sample may add to its family name, by type. */
const TEXT_SUFFIXES: Record<string, readonly string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

/** Parses a number as the given grammar allows it (Go's ParseFloat for the text format). */
export function parseNumber(text: string): number | undefined {
  if (REAL_NUMBER.test(text)) return Number(text);
  if (SPECIAL_NUMBER.test(text)) {
    const lower = text.toLowerCase();
    if (lower === 'nan') return Number.NaN;
    return lower.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  return undefined;
}

/** Go's shortest %g with `.0` appended: the canonical form OpenMetrics asks for le/quantile. */
function canonical(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa, exp] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exp);
  if (exponent < -4 || exponent >= 6) {
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const fixed = String(value);
  return fixed.includes('.') ? fixed : `${fixed}.0`;
}

/** A cursor over one line. */
class Line {
  pos = 0;
  constructor(
    readonly text: string,
    readonly number: number,
  ) {}
  fail(message: string): never {
    throw new ExpositionParseError(
      this.number,
      `${message} at column ${this.pos + 1}: ${JSON.stringify(this.text)}`,
    );
  }
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string | undefined {
    return this.text[this.pos];
  }
  expect(literal: string): void {
    if (!this.text.startsWith(literal, this.pos)) this.fail(`expected ${JSON.stringify(literal)}`);
    this.pos += literal.length;
  }
  match(re: RegExp, what: string): string {
    const m = re.exec(this.text.slice(this.pos));
    if (m === null) this.fail(`expected ${what}`);
    this.pos += m[0].length;
    return m[0];
  }
  /** Reads up to the next space or the end of the line. */
  token(): string {
    const end = this.text.indexOf(' ', this.pos);
    const stop = end === -1 ? this.text.length : end;
    const out = this.text.slice(this.pos, stop);
    this.pos = stop;
    return out;
  }
}

/**
 * Reads an escaped string up to (not including) `terminator` (a double quote for label values,
 * the end of the line for HELP). `escapes` lists the characters allowed after a backslash.
 */
function readEscaped(
  line: Line,
  escapes: string,
  terminator: '"' | 'eol',
  rawQuoteAllowed = false,
): string {
  let out = '';
  while (true) {
    if (line.done) {
      if (terminator === 'eol') return out;
      line.fail('unterminated label value');
    }
    const ch = line.text[line.pos] as string;
    if (ch === '"' && terminator === '"') return out;
    if (ch === '\\') {
      const next = line.text[line.pos + 1];
      if (next === undefined || !escapes.includes(next)) line.fail('invalid escape sequence');
      out += next === 'n' ? '\n' : next;
      line.pos += 2;
      continue;
    }
    if (ch === '"' && !rawQuoteAllowed) line.fail('unescaped double quote');
    out += ch;
    line.pos += 1;
  }
}

function readLabels(line: Line): Record<string, string> {
  const labels: Record<string, string> = {};
  line.expect('{');
  if (line.peek() === '}') {
    line.pos += 1;
    return labels;
  }
  while (true) {
    const name = line.match(LABEL_NAME, 'a label name');
    if (Object.hasOwn(labels, name)) line.fail(`duplicate label ${name}`);
    line.expect('="');
    labels[name] = readEscaped(line, '\\"n', '"');
    line.expect('"');
    if (line.peek() === ',') {
      line.pos += 1;
      continue;
    }
    line.expect('}');
    return labels;
  }
}

function readNumber(line: Line, what: string, grammar: RegExp | null): number {
  const start = line.pos;
  const text = line.token();
  const value = parseNumber(text);
  if (
    value === undefined ||
    (grammar !== null && !grammar.test(text) && !SPECIAL_NUMBER.test(text))
  ) {
    line.pos = start;
    line.fail(`invalid ${what} ${JSON.stringify(text)}`);
  }
  return value;
}

/** A sample line read up to and including its value, and the family it belongs to. */
interface SampleStart {
  readonly owner: ParsedFamily;
  /** The sample without the timestamp and exemplar that may follow the value. */
  readonly sample: ParsedSample;
}

/**
 * Reads a sample line's name, labels and value. The sample belongs to `current` when its name
 * is one of that family's sample names (by the format's suffixes per type), else to the family `open` gives
 * for the name (which fails the line where that family may not start here).
 */
function readSampleStart(
  line: Line,
  syntax: ExpositionSyntax,
  current: ParsedFamily | undefined,
  open: (name: string, line: Line) => ParsedFamily,
): SampleStart {
  const suffixes = syntax === 'prometheus' ? TEXT_SUFFIXES : OM_SUFFIXES;
  // OpenMetrics values are also held to its number grammar.
  const valueGrammar = syntax === 'prometheus' ? null : REAL_NUMBER;
  const name = line.match(METRIC_NAME, 'a metric name');
  const ownsName = (f: ParsedFamily) => (suffixes[f.type] ?? ['']).some((x) => f.name + x === name);
  const owner = current !== undefined && ownsName(current) ? current : open(name, line);
  const labels = line.peek() === '{' ? readLabels(line) : {};
  line.expect(' ');
  const value = readNumber(line, 'value', valueGrammar);
  return { owner, sample: { name, labels, value, line: line.number, valueEnd: line.pos } };
}

/** Parses an exposition; throws {@link ExpositionParseError} on anything invalid. */
export function parseExposition(text: string, syntax: ExpositionSyntax): ParsedFamily[] {
  return syntax === 'prometheus' ? parseText(text) : parseOpenMetrics(text);
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  if (!text.endsWith('\n'))
    throw new ExpositionParseError(0, 'exposition does not end with a line feed');
  return text.slice(0, -1).split('\n');
}

function parseText(text: string): ParsedFamily[] {
  const families: ParsedFamily[] = [];
  const byName = new Map<string, ParsedFamily>();
  let current: ParsedFamily | undefined;
  const family = (name: string, line: Line): ParsedFamily => {
    let f = byName.get(name);
    if (f === undefined) {
      f = { name, type: 'untyped', help: '', unit: '', samples: [] };
      byName.set(name, f);
      families.push(f);
    } else if (f !== current) {
      line.fail(`family ${name} appears twice`);
    }
    current = f;
    return f;
  };
  const lines = splitLines(text);
  lines.forEach((raw, i) => {
    const line: Line = new Line(raw, i + 1);
    if (raw === '') line.fail('empty line');
    if (raw.startsWith('#')) {
      line.expect('# ');
      const keyword = line.token();
      if (keyword !== 'HELP' && keyword !== 'TYPE') line.fail('unexpected comment');
      line.expect(' ');
      const name = line.match(METRIC_NAME, 'a metric name');
      const f = family(name, line);
      if (keyword === 'HELP') {
        if (f.help !== '' || f.samples.length > 0) line.fail('HELP twice or after samples');
        // Prometheus' parser skips blanks before the help text.
        if (!line.done) line.expect(' ');
        while (line.peek() === ' ' || line.peek() === '\t') line.pos += 1;
        f.help = readEscaped(line, '\\n', 'eol', true);
      } else {
        if (f.type !== 'untyped' || f.samples.length > 0) line.fail('TYPE twice or after samples');
        line.expect(' ');
        const type = line.token();
        if (!TEXT_TYPES.has(type) || !line.done) line.fail(`unknown type ${type}`);
        f.type = type;
      }
      return;
    }
    const { owner, sample } = readSampleStart(line, 'prometheus', current, family);
    const { name, labels } = sample;
    let timestamp: number | undefined;
    if (!line.done) {
      line.expect(' ');
      timestamp = Number(line.match(/^-?\d+$/, 'an integer timestamp'));
    }
    if (owner.type === 'histogram' && name.endsWith('_bucket') && !Object.hasOwn(labels, 'le')) {
      line.fail('bucket without le');
    }
    owner.samples.push(timestamp === undefined ? sample : { ...sample, timestamp });
  });
  return families;
}

function parseOpenMetrics(text: string): ParsedFamily[] {
  const lines = splitLines(text);
  if (lines.length === 0 || lines[lines.length - 1] !== '# EOF') {
    throw new ExpositionParseError(lines.length, 'exposition does not end with "# EOF"');
  }
  lines.pop();
  const families: ParsedFamily[] = [];
  const seen = new Set<string>();
  let current: ParsedFamily | undefined;
  const open = (name: string, line: Line): ParsedFamily => {
    if (current !== undefined && current.name === name) return current;
    if (seen.has(name)) line.fail(`family ${name} is interleaved or repeated`);
    seen.add(name);
    current = { name, type: 'unknown', help: '', unit: '', samples: [] };
    families.push(current);
    return current;
  };
  const metadataSeen = new Map<ParsedFamily, Set<string>>();
  lines.forEach((raw, i) => {
    const line: Line = new Line(raw, i + 1);
    if (raw.startsWith('#')) {
      line.expect('# ');
      const keyword = line.token();
      if (keyword !== 'HELP' && keyword !== 'TYPE' && keyword !== 'UNIT') {
        line.fail('only TYPE, UNIT, HELP and EOF may start with #');
      }
      line.expect(' ');
      const name = line.match(METRIC_NAME, 'a metric name');
      const f = open(name, line);
      if (f.samples.length > 0) line.fail('metadata after samples');
      const kinds = metadataSeen.get(f) ?? new Set<string>();
      metadataSeen.set(f, kinds);
      if (kinds.has(keyword)) line.fail(`${keyword} twice`);
      kinds.add(keyword);
      line.expect(' ');
      if (keyword === 'TYPE') {
        const type = line.token();
        if (!OM_TYPES.has(type) || !line.done) line.fail(`unknown type ${type}`);
        f.type = type;
        if (type === 'counter' && name.endsWith('_total'))
          line.fail('counter family name ends in _total');
      } else if (keyword === 'UNIT') {
        f.unit = line.match(/^[a-zA-Z0-9_:]*$/, 'a unit');
        if (f.unit !== '' && !name.endsWith(`_${f.unit}`))
          line.fail('family name does not end with its unit');
      } else {
        f.help = readEscaped(line, '\\"n', 'eol');
      }
      return;
    }
    const { owner, sample } = readSampleStart(line, 'openmetrics', current, open);
    const { name, labels, valueEnd } = sample;
    let timestamp: number | undefined;
    let exemplar: ParsedExemplar | undefined;
    if (!line.done && !line.text.startsWith(' # ', line.pos)) {
      line.expect(' ');
      timestamp = readNumber(line, 'timestamp', REAL_NUMBER);
      if (!REAL_NUMBER.test(String(line.text.slice(valueEnd + 1, line.pos))))
        line.fail('timestamp is not a real number');
    }
    if (!line.done) {
      line.expect(' # ');
      const allowed =
        (owner.type === 'counter' && name === `${owner.name}_total`) ||
        (owner.type === 'histogram' && name === `${owner.name}_bucket`);
      if (!allowed) line.fail('exemplar on a sample that cannot carry one');
      const exLabels = readLabels(line);
      let chars = 0;
      for (const [k, v] of Object.entries(exLabels)) chars += k.length + [...v].length;
      if (chars > 128) line.fail('exemplar labels longer than 128 characters');
      line.expect(' ');
      const exValue = readNumber(line, 'exemplar value', REAL_NUMBER);
      let exTimestamp: number | undefined;
      if (!line.done) {
        line.expect(' ');
        const start = line.pos;
        exTimestamp = readNumber(line, 'exemplar timestamp', REAL_NUMBER);
        if (!REAL_NUMBER.test(line.text.slice(start, line.pos)))
          line.fail('exemplar timestamp is not a real number');
      }
      if (!line.done) line.fail('trailing characters');
      exemplar = {
        labels: exLabels,
        value: exValue,
        ...(exTimestamp === undefined ? {} : { timestamp: exTimestamp }),
      };
    }
    const numeric =
      owner.type === 'histogram' && name.endsWith('_bucket')
        ? 'le'
        : owner.type === 'summary' && name === owner.name
          ? 'quantile'
          : undefined;
    if (numeric !== undefined) {
      const v = labels[numeric];
      if (v === undefined) line.fail(`missing ${numeric} label`);
      const n = parseNumber(v);
      if (n === undefined || canonical(n) !== v)
        line.fail(`${numeric}="${v}" is not a canonical number`);
    }
    owner.samples.push({
      ...sample,
      ...(timestamp === undefined ? {} : { timestamp }),
      ...(exemplar === undefined ? {} : { exemplar }),
    });
  });
  for (const f of families) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** Buckets ascending per series, ending with +Inf, and `_count` equal to the +Inf bucket. */
function checkHistogram(family: ParsedFamily): void {
  const series = new Map<string, { les: number[]; inf?: number; count?: number; line: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(rest);
    const s = series.get(key) ?? { les: [], line: sample.line };
    series.set(key, s);
    if (sample.name.endsWith('_bucket')) {
      const bound = parseNumber(le as string) as number;
      if (s.les.length > 0 && bound <= (s.les[s.les.length - 1] as number)) {
        throw new ExpositionParseError(sample.line, 'buckets not in increasing order of le');
      }
      s.les.push(bound);
      if (bound === Number.POSITIVE_INFINITY) s.inf = sample.value;
    } else if (sample.name.endsWith('_count')) {
      s.count = sample.value;
    }
  }
  for (const s of series.values()) {
    if (s.les.length > 0 && s.inf === undefined)
      throw new ExpositionParseError(s.line, 'histogram without a +Inf bucket');
    if (s.count !== undefined && s.inf !== undefined && s.count !== s.inf) {
      throw new ExpositionParseError(s.line, '_count differs from the +Inf bucket');
    }
  }
}
