/**
 * Building a large exposition (megabytes for tens of thousands of series) by appending to one
 * string makes V8 keep a rope of a million small pieces alive until the end, which costs more
 * in garbage collection than the rendering itself. Renderers instead append to a short string,
 * hand it over here every {@link CHUNK_CHARS} characters, and join the chunks once.
 */

/** Size at which a renderer hands its current string over. */
export const CHUNK_CHARS = 64 * 1024;

/** Collects chunks of an exposition and joins them once. */
export class ChunkedOutput {
  private readonly chunks: string[] = [];

  /** Adds a finished chunk. */
  push(chunk: string): void {
    if (chunk !== '') this.chunks.push(chunk);
  }

  /** The whole text. */
  join(): string {
    return this.chunks.join('');
  }
}
