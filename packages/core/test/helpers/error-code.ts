/**
 * The `code` of the error `fn` throws, or undefined when it throws none: tests compare typed
 * errors by their stable codes.
 */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}
