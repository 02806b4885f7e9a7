/**
 * Growth of the byte buffers expositions are written into (text-buffer.ts, the protobuf
 * writer): doubling, so a large exposition is copied O(log n) times.
 */

/**
 * A buffer holding the first `used` bytes of `bytes` with room for at least `needed` bytes in
 * all (at least twice the old size). Uninitialised beyond `used`: writers write before they read.
 */
export function grownBuffer(bytes: Uint8Array, used: number, needed: number): Buffer {
  let size = Math.max(bytes.length * 2, 16);
  while (size < needed) size *= 2;
  const grown = Buffer.allocUnsafeSlow(size);
  grown.set(bytes.subarray(0, used));
  return grown;
}
