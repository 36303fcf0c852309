// The history record of one revision (a WatchResponse holding its events), encoded by hand: it is
// written on every applied write, on every member, and protobuf-es's generic encoder costs more
// than the rest of the apply. Sizes are computed first so the record is written into one buffer
// of the exact size. The bytes are exactly what toBinary(WatchResponseSchema, ...) produces
// (tested), so records are still read back with fromBinary.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { Event, KeyValue } from "../gen/rbkv/v1/kv_pb";

const TWO_32 = 2 ** 32;

/** Bytes of a varint; revisions, versions and times are below 2^53 so plain numbers suffice. */
function varintSize(n: number): number {
  if (n < 0) return 10;
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function lengthDelimitedSize(fieldTagSize: number, length: number): number {
  return fieldTagSize + varintSize(length) + length;
}

function timestampSize(ts: Timestamp): number {
  let size = 0;
  if (ts.seconds !== 0n) size += 1 + varintSize(Number(ts.seconds));
  if (ts.nanos !== 0) size += 1 + varintSize(ts.nanos);
  return size;
}

function keyValueSize(kv: KeyValue): number {
  let size = 0;
  if (kv.key.length > 0) size += lengthDelimitedSize(1, kv.key.length);
  if (kv.value.length > 0) size += lengthDelimitedSize(1, kv.value.length);
  if (kv.createRevision !== 0n) size += 1 + varintSize(Number(kv.createRevision));
  if (kv.modRevision !== 0n) size += 1 + varintSize(Number(kv.modRevision));
  if (kv.version !== 0n) size += 1 + varintSize(Number(kv.version));
  if (kv.expiresAt) size += lengthDelimitedSize(1, timestampSize(kv.expiresAt));
  return size;
}

function eventSize(e: Event): number {
  let size = 0;
  if (e.type !== 0) size += 1 + varintSize(e.type);
  if (e.kv) size += lengthDelimitedSize(1, keyValueSize(e.kv));
  if (e.prevKv) size += lengthDelimitedSize(1, keyValueSize(e.prevKv));
  return size;
}

class Writer {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  varint(n: number): void {
    if (n < 0) {
      // Negative int64/int32: two's complement over 64 bits, ten bytes.
      let v = BigInt.asUintN(64, BigInt(n));
      for (let i = 0; i < 9; i++) {
        this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      this.buf[this.pos++] = Number(v);
      return;
    }
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
}

function writeKeyValue(w: Writer, kv: KeyValue): void {
  if (kv.key.length > 0) w.bytes(1, kv.key);
  if (kv.value.length > 0) w.bytes(2, kv.value);
  if (kv.createRevision !== 0n) w.uint(3, Number(kv.createRevision));
  if (kv.modRevision !== 0n) w.uint(4, Number(kv.modRevision));
  if (kv.version !== 0n) w.uint(5, Number(kv.version));
  const ts = kv.expiresAt;
  if (ts) {
    w.tag(6, 2);
    w.varint(timestampSize(ts));
    if (ts.seconds !== 0n) w.uint(1, Number(ts.seconds));
    if (ts.nanos !== 0) w.uint(2, ts.nanos);
  }
}

/** Encodes WatchResponse{events} (no header, no compact revision). */
export function encodeHistoryRecord(events: readonly Event[]): Uint8Array {
  const sizes = events.map(eventSize);
  let total = 0;
  for (const s of sizes) total += lengthDelimitedSize(1, s);
  const w = new Writer(new Uint8Array(total));
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    w.tag(2, 2);
    w.varint(sizes[i]);
    if (e.type !== 0) w.uint(1, e.type);
    if (e.kv) {
      w.tag(2, 2);
      w.varint(keyValueSize(e.kv));
      writeKeyValue(w, e.kv);
    }
    if (e.prevKv) {
      w.tag(3, 2);
      w.varint(keyValueSize(e.prevKv));
      writeKeyValue(w, e.prevKv);
    }
  }
  if (w.pos !== total) throw new Error(`history record size mismatch: wrote ${w.pos}, expected ${total}`);
  return w.buf;
}
