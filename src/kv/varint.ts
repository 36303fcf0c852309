// Protobuf wire helpers for the hand-written codecs (put commands, history records). Values are whole numbers below 2^53, so plain numbers suffice.

const TWO_32 = 2 ** 32;

/** Bytes of a varint. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Bytes of a length-delimited field with a one-byte tag. */
export function lengthDelimitedSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/**
 * Reads a varint of at most `maxBytes` bytes at `cursor.pos` (advancing it), stopping at `end`;
 * -1 when it is longer or runs past `end`.
 */
function readVarint(data: Uint8Array, cursor: { pos: number }, end: number, maxBytes: number): number {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < maxBytes && cursor.pos < end; i++) {
    const b = data[cursor.pos++];
    n += (b & 0x7f) * mul;
    if (b < 0x80) return n;
    mul *= 128;
  }
  return -1;
}

/** Seven varint bytes carry 49 bits: every millisecond time until the year 19,000. */
const MAX_FLAT_VARINT_BYTES = 7;

/**
 * Reads `data` as a message made only of the fields whose one-byte tags are in `tags`
 * (length-delimited ones as views, varints as numbers), each at most once; fields not present
 * are null. Returns null for anything else (an unknown or repeated field, a long varint, a
 * truncation): the caller then uses the generic decoder, which decides what it means.
 */
export function readFlatMessage(data: Uint8Array, tags: readonly number[]): (Uint8Array | number | null)[] | null {
  const out: (Uint8Array | number | null)[] = tags.map(() => null);
  const end = data.length;
  const at = { pos: 0 };
  while (at.pos < end) {
    const tag = data[at.pos++];
    const i = tags.indexOf(tag);
    if (i < 0 || out[i] !== null) return null;
    if ((tag & 7) === 2) {
      const len = readVarint(data, at, end, MAX_FLAT_VARINT_BYTES);
      if (len < 0 || at.pos + len > end) return null;
      out[i] = data.subarray(at.pos, at.pos + len);
      at.pos += len;
    } else if ((tag & 7) === 0) {
      const n = readVarint(data, at, end, MAX_FLAT_VARINT_BYTES);
      if (n < 0) return null;
      out[i] = n;
    } else {
      return null;
    }
  }
  return out;
}

/** Writes fields into a buffer sized beforehand (one-byte tags: field numbers below 16). */
export class ProtoWriter {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = n >= TWO_32 ? Math.floor(n / 128) : n >>> 7;
    }
    this.buf[this.pos++] = n;
  }

  tag(field: number, wireType: number): void {
    this.buf[this.pos++] = (field << 3) | wireType;
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  uint(field: number, n: number): void {
    this.tag(field, 0);
    this.varint(n);
  }

  /** The tag and length of a nested message; its fields follow. */
  begin(field: number, size: number): void {
    this.tag(field, 2);
    this.varint(size);
  }
}
