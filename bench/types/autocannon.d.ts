/**
 * The part of autocannon's programmatic API the HTTP scenarios use (the package ships no
 * types, and the bench needs only this).
 */
declare module 'autocannon' {
  export interface AutocannonOptions {
    url: string;
    connections?: number;
    pipelining?: number;
    /** Requests to send before stopping (duration is then ignored). */
    amount?: number;
    /** Seconds. */
    duration?: number;
    /** Seconds before a request counts as timed out. */
    timeout?: number;
  }
  export interface AutocannonResult {
    '2xx': number;
    non2xx: number;
    errors: number;
    timeouts: number;
    duration: number;
    requests: { average: number; total: number };
  }
  export interface AutocannonInstance {
    stop(): void;
  }
  function autocannon(
    options: AutocannonOptions,
    callback: (error: Error | null, result: AutocannonResult) => void,
  ): AutocannonInstance;
  export default autocannon;
}
