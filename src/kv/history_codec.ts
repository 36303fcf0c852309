// The history record of one revision (a WatchResponse holding its events), encoded by hand: it is
// written on every applied write, and protobuf-es's generic encoder costs more than the rest of
// the apply. The bytes are exactly what toBinary(WatchResponseSchema, ...) produces (tested), so
// records are still read back with fromBinary.
import type { Event, KeyValue } from "../gen/rbkv/v1/kv_pb";

class Writer {
  buf = new Uint8Array(256);
  pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  varint(n: bigint | number): void {
    let v = typeof n === "bigint" ? n : BigInt(n);
    if (v < 0n) v = BigInt.asUintN(64, v);
    this.ensure(10);
    if (v < 0x80n) {
      this.buf[this.pos++] = Number(v);
      return;
    }
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  smallVarint(n: number): void {
    this.ensure(5);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }

  bytes(field: number, b: Uint8Array): void {
    this.smallVarint((field << 3) | 2);
    this.smallVarint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A length-delimited submessage written by `body`. */
  message(field: number, body: (w: Writer) => void): void {
    const inner = new Writer();
    body(inner);
    this.bytes(field, inner.buf.subarray(0, inner.pos));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

function writeKeyValue(w: Writer, kv: KeyValue): void {
  if (kv.key.length > 0) w.bytes(1, kv.key);
  if (kv.value.length > 0) w.bytes(2, kv.value);
  if (kv.createRevision !== 0n) (w.smallVarint(3 << 3), w.varint(kv.createRevision));
  if (kv.modRevision !== 0n) (w.smallVarint(4 << 3), w.varint(kv.modRevision));
  if (kv.version !== 0n) (w.smallVarint(5 << 3), w.varint(kv.version));
  const ts = kv.expiresAt;
  if (ts) {
    w.message(6, (t) => {
      if (ts.seconds !== 0n) (t.smallVarint(1 << 3), t.varint(ts.seconds));
      if (ts.nanos !== 0) (t.smallVarint(2 << 3), t.varint(ts.nanos));
    });
  }
}

/** Encodes WatchResponse{events} (no header, no compact revision). */
export function encodeHistoryRecord(events: readonly Event[]): Uint8Array {
  const w = new Writer();
  for (const e of events) {
    w.message(2, (ev) => {
      if (e.type !== 0) (ev.smallVarint(1 << 3), ev.varint(e.type));
      if (e.kv) ev.message(2, (k) => writeKeyValue(k, e.kv as KeyValue));
      if (e.prevKv) ev.message(3, (k) => writeKeyValue(k, e.prevKv as KeyValue));
    });
  }
  return w.finish();
}
