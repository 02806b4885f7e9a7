/**
 * A growable buffer that protobuf messages are written into, field by field (the wire format:
 * varint tags and integers, zigzag for `sint`, little-endian doubles, length-prefixed
 * submessages and strings).
 *
 * Submessages are written in place: {@link ProtoWriter.begin} leaves one byte for the length
 * and {@link ProtoWriter.end} fills it in, moving the body right when the length needs more
 * than one byte. So nothing is sized twice, and the small messages that make up most of an
 * exposition (a label pair, a counter) are never moved.
 */

/** Default initial size of a writer. */
export const INITIAL_BYTES = 64 * 1024;
/** 2^32, to split integers above 32 bits (JavaScript's bitwise operators are 32-bit). */
const TWO_32 = 4294967296;

/** Protobuf wire types. */
export const WIRE_VARINT = 0;
/** 64-bit fixed (double). */
export const WIRE_FIXED64 = 1;
/** Length-delimited (strings, bytes, submessages, packed repeated fields). */
export const WIRE_LEN = 2;

/** The encoded key of a field: `(number << 3) | wireType`, for field numbers below 16. */
export function fieldKey(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

/** See the module comment. One writer per exposition; not reusable after {@link finish}. */
export class ProtoWriter {
  private bytes: Buffer;
  private pos = 0;

  /**
   * @param initialBytes bytes to start with (say, a little more than the previous exposition:
   *   growing a large buffer by doubling copies it each time).
   */
  constructor(initialBytes = INITIAL_BYTES) {
    // Uninitialised memory: every byte read back was written first.
    this.bytes = Buffer.allocUnsafeSlow(Math.max(16, Math.ceil(initialBytes)));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  private reserve(n: number): void {
    const needed = this.pos + n;
    if (needed <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafeSlow(size);
    this.bytes.copy(grown, 0, 0, this.pos);
    this.bytes = grown;
  }

  /** Writes one byte (a field key below 128, or a length known to be below 128). */
  byte(value: number): void {
    if (this.pos >= this.bytes.length) this.reserve(1);
    this.bytes[this.pos++] = value;
  }

  /** Writes a non-negative safe integer as a varint (uint32, uint64, int64 >= 0, lengths). */
  varint(value: number): void {
    this.reserve(10);
    const bytes = this.bytes;
    let pos = this.pos;
    let v = value;
    if (v < TWO_32) {
      // The common case stays in 32-bit integer arithmetic.
      let u = v >>> 0;
      while (u > 127) {
        bytes[pos++] = (u & 127) | 128;
        u >>>= 7;
      }
      bytes[pos++] = u;
    } else {
      while (v > 127) {
        bytes[pos++] = (v % 128) | 128;
        v = Math.floor(v / 128);
      }
      bytes[pos++] = v;
    }
    this.pos = pos;
  }

  /** Writes a safe integer of any sign as a zigzag varint (`sint32`, `sint64`). */
  sint(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  /** Writes a double, little-endian. */
  double(value: number): void {
    this.reserve(8);
    this.pos = this.bytes.writeDoubleLE(value, this.pos);
  }

  /** Copies bytes written before (a cached label pair, a pre-encoded field). */
  raw(piece: Uint8Array): void {
    const n = piece.length;
    this.reserve(n);
    const bytes = this.bytes;
    let pos = this.pos;
    if (n <= 32) {
      for (let i = 0; i < n; i++) bytes[pos++] = piece[i] as number;
    } else {
      bytes.set(piece, pos);
      pos += n;
    }
    this.pos = pos;
  }

  /** Writes a string field: key, UTF-8 length, bytes. */
  string(key: number, value: string): void {
    const n = Buffer.byteLength(value, 'utf8');
    this.byte(key);
    this.varint(n);
    this.reserve(n);
    this.pos += this.bytes.write(value, this.pos, n, 'utf8');
  }

  /** Writes a submessage key and starts its body; returns what {@link end} needs. */
  begin(key: number): number {
    this.byte(key);
    this.byte(0);
    return this.pos;
  }

  /** Ends the submessage started at `start`: writes its length before it. */
  end(start: number): void {
    const length = this.pos - start;
    if (length < 128) {
      this.bytes[start - 1] = length;
      return;
    }
    let extra = 0;
    for (let v = length; v > 127; v = Math.floor(v / 128)) extra++;
    this.reserve(extra);
    this.bytes.copyWithin(start + extra, start, this.pos);
    const end = this.pos + extra;
    this.pos = start - 1;
    this.varint(length);
    this.pos = end;
  }

  /** Starts a length-delimited frame (no key): a `MetricFamily` of a delimited stream. */
  beginFrame(): number {
    this.byte(0);
    return this.pos;
  }

  /**
   * The bytes written (a Node Buffer, typed as the Uint8Array it is so that declarations need
   * no Node types). The writer must not be used afterwards.
   */
  finish(): Uint8Array {
    return this.bytes.subarray(0, this.pos);
  }
}

/** A piece encoded once with a throwaway writer, to be copied with {@link ProtoWriter.raw}. */
export function encodePiece(write: (writer: ProtoWriter) => void): Uint8Array {
  const writer = new ProtoWriter(64);
  write(writer);
  return Uint8Array.from(writer.finish());
}
