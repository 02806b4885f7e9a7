/**
 * A growable byte buffer that a large exposition is written into and read back as one string.
 *
 * Why not strings: an exposition of 100k lines built with `+` or template literals is a tree
 * of small strings (a rope) that V8 must walk again to join, encode or send it; measured here
 * for 12k histogram lines, joining the lines cost ~5 ms, writing the same bytes into a buffer
 * and decoding it once ~0.5 ms. Pieces that repeat (a series' labels, `le="0.25"} `) are
 * encoded once and copied; numbers are written digit by digit without an intermediate string.
 *
 * The result is decoded as latin1 while every byte written is ASCII (V8 then copies bytes),
 * and as UTF-8 as soon as any piece was not ASCII.
 */
import { grownBuffer } from './grow-buffer.js';

const INITIAL_BYTES = 64 * 1024;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Pieces up to this many bytes are copied by a loop. */
const SMALL_PIECE = 48;

/** Bytes of `text` in UTF-8, and whether they are all ASCII. */
export interface EncodedText {
  readonly bytes: Uint8Array;
  readonly ascii: boolean;
}

/** Encodes `text` once, for pieces that are written many times. */
export function encodeText(text: string): EncodedText {
  const bytes = Buffer.from(text, 'utf8');
  return { bytes, ascii: bytes.length === text.length };
}

/** See the module comment. One buffer per render; not reusable after {@link finish}. */
export class TextBuffer {
  private bytes: Buffer;
  /** {@link bytes} as a DataView (for {@link bytesOf}), made again when they are replaced. */
  private view: DataView;
  private pos = 0;
  private ascii = true;

  /**
   * @param sizeHint expected bytes (say, the size of the previous render): starting at the
   *   right size saves growing a 14 MB buffer by doubling from 64 KB, copying it each time.
   * @param reuse the {@link memory} of an earlier buffer whose bytes nothing reads any more,
   *   written over when it fits (and is not four times too large: it would stay allocated).
   */
  constructor(sizeHint = 0, reuse?: Buffer) {
    const size = Math.max(INITIAL_BYTES, Math.ceil(sizeHint * 1.1));
    // Uninitialised memory: every byte read back was written first.
    this.bytes =
      reuse !== undefined && reuse.length >= size && reuse.length <= size * 4
        ? reuse
        : Buffer.allocUnsafeSlow(size);
    this.view = viewOf(this.bytes);
  }

  /** The memory written into (grown as needed), for a later buffer to reuse once this one is done. */
  get memory(): Buffer {
    return this.bytes;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** Makes room for `n` more bytes. */
  private reserve(n: number): void {
    const needed = this.pos + n;
    if (needed > this.bytes.length) {
      this.bytes = grownBuffer(this.bytes, this.pos, needed);
      this.view = viewOf(this.bytes);
    }
  }

  /** Appends an encoded piece. */
  piece(encoded: EncodedText): void {
    const src = encoded.bytes;
    const n = src.length;
    if (this.pos + n > this.bytes.length) this.reserve(n);
    const bytes = this.bytes;
    let pos = this.pos;
    if (n <= SMALL_PIECE) {
      // A loop beats TypedArray#set (a runtime call) for the short pieces of a line.
      for (let i = 0; i < n; i++) bytes[pos++] = src[i] as number;
    } else {
      bytes.set(src, pos);
      pos += n;
    }
    this.pos = pos;
    if (!encoded.ascii) this.ascii = false;
  }

  /**
   * Appends `length` bytes of `source` (viewed as `sourceView`) from `start`: a cached prefix
   * kept in an arena (series-prefixes.ts). Copied four bytes at a time through DataViews (any
   * alignment): for 80-byte prefixes half the time of a byte loop and of `TypedArray#set`,
   * which needs a view of the range, an object per call (300,000 copies: 9, 25 and 16 ms).
   */
  bytesOf(
    source: Uint8Array,
    sourceView: DataView,
    start: number,
    length: number,
    ascii: boolean,
  ): void {
    if (this.pos + length > this.bytes.length) this.reserve(length);
    const view = this.view;
    const pos = this.pos;
    let i = 0;
    for (; i + 4 <= length; i += 4) view.setUint32(pos + i, sourceView.getUint32(start + i));
    const bytes = this.bytes;
    for (; i < length; i++) bytes[pos + i] = source[start + i] as number;
    this.pos = pos + length;
    if (!ascii) this.ascii = false;
  }

  /**
   * Appends again the `length` bytes written at `from` (a series' line prefix, for its next
   * bucket line): one `copyWithin`, no object.
   */
  again(from: number, length: number): void {
    if (this.pos + length > this.bytes.length) this.reserve(length);
    this.bytes.copyWithin(this.pos, from, from + length);
    this.pos += length;
  }

  /**
   * Appends a string known to be ASCII (a cached piece kept as a string: a one-byte string
   * costs less memory than an encoded copy and its Buffer, and is copied by one native call).
   */
  asciiText(text: string): void {
    const n = text.length;
    if (this.pos + n > this.bytes.length) this.reserve(n);
    this.pos += this.bytes.write(text, this.pos, n, 'latin1');
  }

  /** Appends one ASCII byte given as a character code. */
  byte(code: number): void {
    if (this.pos >= this.bytes.length) this.reserve(1);
    this.bytes[this.pos++] = code;
  }

  /** Appends any string (encoded as UTF-8). */
  text(text: string): void {
    const n = text.length;
    if (this.pos + n > this.bytes.length) this.reserve(n);
    const bytes = this.bytes;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) {
        // Not ASCII: let Buffer encode the whole string (surrogates and all).
        this.pos = pos - i;
        this.piece(encodeText(text));
        return;
      }
      bytes[pos++] = code;
    }
    this.pos = pos;
  }

  /**
   * Appends `value` exactly as `formatValue` (exposition/number.ts) renders it: integers
   * below 2^53 are written digit by digit, everything else through `format`.
   */
  number(value: number, format: (value: number) => string): void {
    if (!Number.isInteger(value) || value === 0 || value > MAX_SAFE || value < -MAX_SAFE) {
      this.text(format(value));
      return;
    }
    if (this.pos + 17 > this.bytes.length) this.reserve(17);
    let x = value;
    if (x < 0) {
      this.bytes[this.pos++] = 45; // '-'
      x = -x;
    }
    let digits = 1;
    for (let t = 10; t <= x; t *= 10) digits++;
    const bytes = this.bytes;
    let p = this.pos + digits;
    this.pos = p;
    do {
      const r = x % 10;
      bytes[--p] = 48 + r;
      x = (x - r) / 10;
    } while (x > 0);
  }

  /** The text written so far. */
  finish(): string {
    return this.bytesWritten().toString(this.ascii ? 'latin1' : 'utf8');
  }

  /** The bytes written so far (UTF-8), a view of this buffer's memory: no copy. */
  bytesWritten(): Buffer {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.pos);
  }
}

/** A DataView of the bytes of `bytes`. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
