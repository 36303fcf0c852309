// Minimal protobuf wire-format primitives (varints, length-delimited fields, strings) for the hot
// path codec in message_wire.ts. Numbers are JS numbers: exact up to 2^53, which bounds every
// index, term and offset the Raft messages carry.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

export class WireFormatError extends Error {
  override name = "WireFormatError";
}

export function tag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 4;
  let v = Math.floor(n / 0x10000000);
  while (v > 0) {
    size++;
    v = Math.floor(v / 0x80);
  }
  return size;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 bytes of short, often repeated strings (node ids) are cached. */
const utf8Cache = new Map<string, Uint8Array>();
const UTF8_CACHE_LIMIT = 1024;

export function utf8(s: string): Uint8Array {
  let bytes = utf8Cache.get(s);
  if (bytes === undefined) {
    bytes = encoder.encode(s);
    if (s.length <= 64) {
      if (utf8Cache.size >= UTF8_CACHE_LIMIT) utf8Cache.clear();
      utf8Cache.set(s, bytes);
    }
  }
  return bytes;
}

/** Writes into a buffer sized in advance by the caller. */
export class WireWriter {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
  ) {
    this.pos = start;
  }

  varint(n: number): void {
    const buf = this.buf;
    while (n >= 0x80000000) {
      buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    while (n >= 0x80) {
      buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[this.pos++] = n;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A varint field, omitted when zero (proto3 default). */
  uintField(field: number, n: number): void {
    if (n === 0) return;
    this.varint(tag(field, WIRE_VARINT));
    this.varint(n);
  }

  boolField(field: number, b: boolean): void {
    if (!b) return;
    this.varint(tag(field, WIRE_VARINT));
    this.buf[this.pos++] = 1;
  }

  /** A bytes/string field, omitted when empty. */
  bytesField(field: number, b: Uint8Array): void {
    if (b.length === 0) return;
    this.varint(tag(field, WIRE_LEN));
    this.bytes(b);
  }

  /** A bytes/string field written even when empty (an element of a repeated field). */
  lengthDelimitedField(field: number, b: Uint8Array): void {
    this.varint(tag(field, WIRE_LEN));
    this.bytes(b);
  }

  /** Opens a length-delimited sub-message whose encoded size is already known. */
  messageHeader(field: number, size: number): void {
    this.varint(tag(field, WIRE_LEN));
    this.varint(size);
  }
}

export function uintFieldSize(field: number, n: number): number {
  return n === 0 ? 0 : varintSize(tag(field, WIRE_VARINT)) + varintSize(n);
}

export function boolFieldSize(field: number, b: boolean): number {
  return b ? varintSize(tag(field, WIRE_VARINT)) + 1 : 0;
}

export function bytesFieldSize(field: number, length: number): number {
  return length === 0 ? 0 : varintSize(tag(field, WIRE_LEN)) + varintSize(length) + length;
}

export function messageFieldSize(field: number, size: number): number {
  return varintSize(tag(field, WIRE_LEN)) + varintSize(size) + size;
}

export class WireReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    const buf = this.buf;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireFormatError("truncated varint");
      const b = buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new WireFormatError("varint longer than 10 bytes");
  }

  /** Returns [start, end) of a length-delimited field's content and moves past it. */
  lengthDelimited(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new WireFormatError("length-delimited field runs past its container");
    this.pos = end;
    return [start, end];
  }

  bytes(): Uint8Array {
    const [start, end] = this.lengthDelimited();
    return this.buf.subarray(start, end);
  }

  string(): string {
    const [start, end] = this.lengthDelimited();
    return decodeUtf8(this.buf, start, end);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.pos += 8;
        break;
      case WIRE_LEN:
        this.lengthDelimited();
        return;
      case WIRE_FIXED32:
        this.pos += 4;
        break;
      default:
        throw new WireFormatError(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new WireFormatError("truncated fixed-width field");
  }
}

function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= 64) {
    let s = "";
    for (let i = start; i < end; i++) {
      const c = buf[i];
      if (c >= 0x80) return decoder.decode(buf.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(buf.subarray(start, end));
}
