/**
 * The URL path of a Pushgateway group: `/metrics/job/<job>{/<label>/<value>}`.
 *
 * The gateway splits the path on `/` after decoding it and cleans it (a `//` or a trailing `/`
 * disappears, `.` and `..` are resolved), so a job name or label value that is empty, holds a
 * `/`, or is `.` or `..` cannot travel as a plain segment. For those the gateway's documented
 * form is used: the name suffixed with `@base64` and the value in base64url (RFC 4648 section
 * 5, no padding; an empty value is the single character `=`). Every other value is sent as a
 * URI component, readable in access logs.
 */
import { InvalidOptionError, LabelSetError } from './errors.js';
import { assertLabelName, isUnicodeText, labelValueString } from './validation.js';

/** Grouping labels of a push: label name to value. */
export type PushgatewayGroupings = Readonly<Record<string, string | number>>;

const WHERE = 'Pushgateway grouping';

/** True when `value` must use the `@base64` form (see the module comment). */
function needsBase64(value: string): boolean {
  return value === '' || value === '.' || value === '..' || value.includes('/');
}

/** One `/<name>/<value>` pair of the path, `value` already validated. */
function pathPair(name: string, value: string): string {
  if (value === '') return `/${name}@base64/=`;
  if (needsBase64(value)) {
    return `/${name}@base64/${Buffer.from(value, 'utf8').toString('base64url')}`;
  }
  return `/${name}/${encodeURIComponent(value)}`;
}

/** Checks a job name or label value is text UTF-8 can carry unchanged. */
function assertUnicode(value: string, label: string): void {
  if (!isUnicodeText(value)) {
    throw new LabelSetError(
      'PROMFORK_INVALID_LABEL_VALUE',
      `Invalid value for ${label} of a Pushgateway push: it holds a lone UTF-16 surrogate, ` +
        'which UTF-8 cannot carry',
    );
  }
}

/**
 * The path below the gateway's base for `jobName` and `groupings`, starting with `/metrics`.
 * Without a job name (only allowed with `requireJobName: false`) it is `/metrics` alone, and
 * groupings are refused, since there is no job segment to attach them to.
 *
 * Throws PROMFORK_INVALID_LABEL_NAME for a grouping name that is not a label name,
 * PROMFORK_RESERVED_LABEL for a grouping named `job` (the job name is its own parameter),
 * PROMFORK_INVALID_LABEL_VALUE for a value that is not a string or finite number or holds a
 * lone surrogate, and PROMFORK_INVALID_OPTION for groupings that are not a plain object or are
 * given without a job name.
 */
export function pushgatewayPath(
  jobName: string | undefined,
  groupings: PushgatewayGroupings | undefined,
): string {
  if (groupings !== undefined) {
    if (typeof groupings !== 'object' || groupings === null || Array.isArray(groupings)) {
      throw new InvalidOptionError(
        'PROMFORK_INVALID_OPTION',
        'Pushgateway: invalid "groupings": expected an object of label names to values',
      );
    }
  }
  if (jobName === undefined) {
    if (groupings !== undefined && Object.keys(groupings).length > 0) {
      throw new InvalidOptionError(
        'PROMFORK_INVALID_OPTION',
        'Pushgateway: "groupings" were given without a "jobName"; the gateway path has no ' +
          'place for them: pass a jobName',
      );
    }
    return '/metrics';
  }
  assertUnicode(jobName, 'the job name');
  let path = `/metrics${pathPair('job', jobName)}`;
  for (const [name, raw] of Object.entries(groupings ?? {})) {
    assertLabelName(name, WHERE);
    if (name === 'job') {
      throw new LabelSetError(
        'PROMFORK_RESERVED_LABEL',
        'Invalid grouping label "job": the job is given by "jobName", not by groupings',
      );
    }
    const value = labelValueString(raw, name, WHERE);
    assertUnicode(value, `grouping label "${name}"`);
    path += pathPair(name, value);
  }
  return path;
}
