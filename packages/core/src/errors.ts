/**
 * Every error promfork throws is defined here, once, with a stable `code`.
 *
 * Contract: a thrown promfork error is always an instance of {@link PromforkError} (and of the
 * narrower class named in its table row), its `code` never changes between releases, and its
 * message names the offending value and what was expected. `docs/errors.md` lists every code;
 * a test keeps that page and {@link ERROR_CODES} in step.
 */

/** Base class of every error promfork throws. Catch this to catch them all. */
export class PromforkError extends Error {
  /** Stable machine-readable identifier, e.g. `PROMFORK_INVALID_METRIC_NAME`. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Raised for a bad metric name, label name, label set or label value. */
export class LabelSetError extends PromforkError {}

/** Raised when a value handed to a metric (increment, observation, gauge value) is not allowed. */
export class InvalidValueError extends PromforkError {}

/** Raised when constructor or middleware options are invalid. Options are never silently replaced. */
export class InvalidOptionError extends PromforkError {}

/**
 * Raised when a metric name is already taken in a registry. Carries the metric that holds the
 * name so callers (tests, hot reloads) can reuse it.
 */
export class AlreadyRegisteredError extends PromforkError {
  /** The metric already registered under the name. */
  readonly existing: unknown;

  constructor(name: string, existing: unknown) {
    super(
      'PROMFORK_ALREADY_REGISTERED',
      `A metric named "${name}" is already registered in this registry; use a different name, ` +
        'remove the existing one first, or use getOrCreate*() to reuse it',
    );
    this.existing = existing;
  }
}

/**
 * Raised (as a rejection) when `startMetricsServer` cannot listen; `cause` is the system error
 * (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`...).
 */
export class ListenError extends PromforkError {}

/** Raised by the file store for a directory or file problem a user must fix. */
export class StoreError extends PromforkError {}

/**
 * Raised (as a rejection) when a Pushgateway request fails: a timeout, a connection error or
 * an answer outside 2xx. The message names the method, the URL (credentials removed) and what
 * happened; the fields carry the same for code that handles it.
 */
export class PushgatewayError extends PromforkError {
  /** HTTP method of the failed request: `PUT` (push), `POST` (pushAdd) or `DELETE`. */
  readonly method: string;
  /** The request URL, with any user name and password removed. */
  readonly url: string;
  /** The status the gateway answered with (PROMFORK_PUSHGATEWAY_STATUS only). */
  readonly statusCode: number | undefined;
  /** The body the gateway answered with (PROMFORK_PUSHGATEWAY_STATUS only). */
  readonly body: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    details: { method: string; url: string; statusCode?: number; body?: string; cause?: unknown },
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.method = details.method;
    this.url = details.url;
    this.statusCode = details.statusCode;
    this.body = details.body;
  }
}

/**
 * Every error code with a one-line meaning. The key set is the contract; `docs/errors.md` must
 * list exactly these codes (tested).
 */
export const ERROR_CODES = {
  PROMFORK_INVALID_METRIC_NAME: 'a metric name does not match [a-zA-Z_:][a-zA-Z0-9_:]*',
  PROMFORK_INVALID_LABEL_NAME:
    'a label name does not match [a-zA-Z_][a-zA-Z0-9_]* or starts with "__"',
  PROMFORK_RESERVED_LABEL:
    'a label name is reserved for this metric type (le, quantile, pid; thread on all/liveall gauges)',
  PROMFORK_DUPLICATE_LABEL_NAME: 'the same label name is declared twice',
  PROMFORK_LABEL_SET_MISMATCH:
    'the labels passed do not match the declared label names exactly (missing or extra)',
  PROMFORK_INVALID_LABEL_VALUE:
    'a label value is not a string or a finite number, holds a lone UTF-16 surrogate, or the values of one series exceed 64 KiB',
  PROMFORK_INVALID_VALUE: 'a value is not a finite number where one is required',
  PROMFORK_NEGATIVE_INCREMENT: 'a counter was asked to go down',
  PROMFORK_INVALID_BUCKETS:
    'histogram buckets are empty, unsorted, duplicated, not finite or more than 1000',
  PROMFORK_INVALID_PERCENTILES: 'summary percentiles are not numbers in [0, 1] or more than 100',
  PROMFORK_INVALID_OPTION: 'an option has the wrong type or an unsupported value',
  PROMFORK_UNKNOWN_OPTION: 'an option key is not one this function accepts',
  PROMFORK_MISSING_OPTION: 'a required option is absent',
  PROMFORK_ALREADY_REGISTERED: 'a metric name is already taken in the registry',
  PROMFORK_METRIC_TYPE_MISMATCH:
    'getOrCreate found a metric of that name but with another type or label names',
  PROMFORK_OPERATION_NOT_SUPPORTED:
    'an operation is not allowed for this metric configuration (e.g. inc on a mostrecent gauge)',
  PROMFORK_DIRECTORY_UNUSABLE:
    'the multi-process directory is missing, not a directory, a symlink or not writable',
  PROMFORK_DIRECTORY_INSECURE:
    'the multi-process directory is writable by every user without the sticky bit; reported, not thrown',
  PROMFORK_STORE_CLOSED: 'the store was closed and can no longer record values',
  PROMFORK_STORE_MISMATCH: 'metrics of one registry were given different stores',
  PROMFORK_INVALID_EXEMPLAR:
    'exemplar labels are not valid label names/values or exceed 128 characters together',
  PROMFORK_WRITE_FAILED:
    'writing a metrics file failed (disk full, I/O error); values stay in memory and writing is retried',
  PROMFORK_FILE_UNREADABLE:
    'a file in the multi-process directory is empty, truncated, damaged, beyond the format limits, of a newer format or vanished; it is skipped',
  PROMFORK_COMPACTION_FAILED:
    'folding dead processes files into the archive failed; the files stay in place and still count',
  PROMFORK_NOT_CLUSTER_PRIMARY:
    'a node:cluster primary helper was called in a process that is not the cluster primary',
  PROMFORK_SERIES_LIMIT:
    'a metric reached its maxSeries limit; updates of new label sets are dropped and counted, never thrown',
  PROMFORK_METRIC_CONFLICT:
    'processes declared one metric name with a different type, labels, buckets or mode; the differing series are skipped',
  PROMFORK_PUSHGATEWAY_TIMEOUT:
    'a Pushgateway request got no complete answer within its timeout; it was aborted',
  PROMFORK_PUSHGATEWAY_UNREACHABLE:
    'a Pushgateway request failed before an answer: connection refused or reset, DNS, TLS',
  PROMFORK_PUSHGATEWAY_STATUS: 'the Pushgateway answered a request with a status outside 2xx',
  PROMFORK_LISTEN_FAILED:
    'startMetricsServer could not listen on its host and port (in use, not permitted, unknown host)',
} as const;

/** A stable promfork error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Renders a value for an error message: strings quoted, everything else via its type. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 120 ? `${value.slice(0, 117)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number') {
    return Object.is(value, -0) ? '-0' : String(value);
  }
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return `a value of type ${typeof value}`;
}
