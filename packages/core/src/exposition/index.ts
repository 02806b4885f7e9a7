/**
 * Exposition formats. These signatures are the contract the registry and core/http code
 * against: `formatText`, `formatOpenMetrics`, `negotiateFormat`, the content types and
 * {@link ExpositionFormat}. Each concept lives in its own file; this module only re-exports.
 */
export { escapeHelpOpenMetrics, escapeHelpText, escapeLabelValue } from './escape.js';
export {
  type ExpositionFormat,
  negotiateFormat,
  OPENMETRICS_FORMAT,
  PROMETHEUS_FORMAT,
  PROTOBUF_FORMAT,
  type TextExpositionFormat,
} from './negotiate.js';
export { formatCanonical, formatValue } from './number.js';
export {
  EXEMPLAR_MAX_LABEL_CHARS,
  exemplarLabelChars,
  formatOpenMetrics,
  OPENMETRICS_CONTENT_TYPE,
  openMetricsFamilyName,
} from './openmetrics.js';
export { PROTOBUF_CONTENT_TYPE } from './protobuf.js';
export { formatText, PROMETHEUS_CONTENT_TYPE } from './text.js';
