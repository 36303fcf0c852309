// A history record (a WatchResponse holding the events of consecutive revisions), encoded by
// hand straight from the apply path's compact changes: it is written on every applied write, on every
// member, and building protobuf Events to hand to protobuf-es's generic encoder costs more than
// the rest of the apply. Sizes are computed first so the record is written into one buffer of the
// exact size. The bytes are exactly what toBinary(WatchResponseSchema, {events}) produces for the
// changes' events with each prev_kv replaced by its reference (tested), so records are still read
// back with fromBinary.
//
// An event's previous key-value is stored as a reference, a KeyValue holding only its
// mod_revision: the previous version is itself in the history (the last put of the key at that
// revision), and storing its value again made the history half of everything an apply wrote.
// Readers resolve references (history_prev.ts); a full KeyValue always has create_revision set, a
// reference never, so records written before this layout still read as they are.
import { EventType } from "../gen/rbkv/v1/kv_pb";
import type { Change } from "./change";
import type { StoredKv } from "./record";
import { lengthDelimitedSize, ProtoWriter, varintSize } from "./varint";

/** google.protobuf.Timestamp of a time in ms, as timestampFromMs builds it. */
function expirySeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function expiryNanos(ms: number): number {
  return (ms - expirySeconds(ms) * 1000) * 1_000_000;
}

function timestampSize(ms: number): number {
  const seconds = expirySeconds(ms);
  const nanos = expiryNanos(ms);
  return (seconds !== 0 ? 1 + varintSize(seconds) : 0) + (nanos !== 0 ? 1 + varintSize(nanos) : 0);
}

/** KeyValue of a live key (every field), or of a removed one (key and the removing revision). */
function keyValueSize(key: Uint8Array, kv: StoredKv | null, removedAt: number): number {
  let size = key.length > 0 ? lengthDelimitedSize(key.length) : 0;
  if (kv === null) return size + (removedAt !== 0 ? 1 + varintSize(removedAt) : 0);
  if (kv.value.length > 0) size += lengthDelimitedSize(kv.value.length);
  if (kv.createRevision !== 0) size += 1 + varintSize(kv.createRevision);
  if (kv.modRevision !== 0) size += 1 + varintSize(kv.modRevision);
  if (kv.version !== 0) size += 1 + varintSize(kv.version);
  if (kv.expiresAtMs !== 0) size += lengthDelimitedSize(timestampSize(kv.expiresAtMs));
  return size;
}

function changeKvSize(c: Change): number {
  return c.type === EventType.PUT ? keyValueSize(c.key, c.kv, 0) : keyValueSize(c.key, null, c.revision);
}

function changeSize(c: Change, kvSize: number): number {
  let size = 1 + varintSize(c.type);
  size += lengthDelimitedSize(kvSize);
  if (c.prev) size += lengthDelimitedSize(prevReferenceSize(c.prev));
  return size;
}

function prevReferenceSize(prev: StoredKv): number {
  return prev.modRevision !== 0 ? 1 + varintSize(prev.modRevision) : 0;
}

class Writer extends ProtoWriter {
  keyValue(field: number, size: number, key: Uint8Array, kv: StoredKv | null, removedAt: number): void {
    this.begin(field, size);
    if (key.length > 0) this.bytes(1, key);
    if (kv === null) {
      if (removedAt !== 0) this.uint(4, removedAt);
      return;
    }
    if (kv.value.length > 0) this.bytes(2, kv.value);
    if (kv.createRevision !== 0) this.uint(3, kv.createRevision);
    if (kv.modRevision !== 0) this.uint(4, kv.modRevision);
    if (kv.version !== 0) this.uint(5, kv.version);
    if (kv.expiresAtMs !== 0) {
      this.begin(6, timestampSize(kv.expiresAtMs));
      const seconds = expirySeconds(kv.expiresAtMs);
      const nanos = expiryNanos(kv.expiresAtMs);
      if (seconds !== 0) this.uint(1, seconds);
      if (nanos !== 0) this.uint(2, nanos);
    }
  }
}

/** Encodes WatchResponse{events} (no header, no compact revision) for `changes`, in order. */
export function encodeHistoryRecord(changes: readonly Change[]): Uint8Array {
  const kvSizes = changes.map(changeKvSize);
  const sizes = changes.map((c, i) => changeSize(c, kvSizes[i]));
  let total = 0;
  for (const s of sizes) total += lengthDelimitedSize(s);
  const w = new Writer(new Uint8Array(total));
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i];
    w.tag(2, 2);
    w.varint(sizes[i]);
    w.uint(1, c.type);
    if (c.type === EventType.PUT) w.keyValue(2, kvSizes[i], c.key, c.kv, 0);
    else w.keyValue(2, kvSizes[i], c.key, null, c.revision);
    if (c.prev) {
      w.begin(3, prevReferenceSize(c.prev));
      if (c.prev.modRevision !== 0) w.uint(4, c.prev.modRevision);
    }
  }
  if (w.pos !== total) throw new Error(`history record size mismatch: wrote ${w.pos}, expected ${total}`);
  return w.buf;
}

