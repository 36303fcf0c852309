// Record framing. Every record in a segment is:
//   crc32 u32 LE | payload length u32 LE | type u8 | payload
// The CRC (IEEE CRC-32, Bun.hash.crc32) covers everything after itself: length, type and payload,
// so a torn or garbled length is caught as surely as a torn payload.

export enum RecordType {
  /** First record of every segment: the state the log was in when the segment was started. */
  SegmentHeader = 1,
  Entry = 2,
  HardState = 3,
  /** Drops every entry at index >= the given index (Raft conflict truncation). */
  Truncate = 4,
  /** Replaces the whole log with a snapshot point (all entries dropped). */
  Snapshot = 5,
  /** Drops entries up to and including a snapshot point that lies within the log. */
  Compact = 6,
}

export const RECORD_HEADER_BYTES = 9;
/** Sanity bound on one record; anything larger is treated as a garbled length. */
export const MAX_PAYLOAD_BYTES = 1 << 30;

export interface RecordView {
  type: RecordType;
  payloadStart: number;
  payloadEnd: number;
}

export type ReadResult = { ok: true; record: RecordView } | { ok: false; reason: string };

export function crcOf(buf: Uint8Array, start: number, end: number): number {
  return Bun.hash.crc32(buf.subarray(start, end)) >>> 0;
}

/** Parses the record starting at `pos`, checking bounds, type and checksum. */
export function readRecord(buf: Uint8Array, pos: number, end: number = buf.length): ReadResult {
  if (end - pos < RECORD_HEADER_BYTES) return { ok: false, reason: "short record header" };
  const type = buf[pos + 8];
  if (type < RecordType.SegmentHeader || type > RecordType.Compact) return { ok: false, reason: `unknown record type ${type}` };
  const view = new DataView(buf.buffer, buf.byteOffset + pos, RECORD_HEADER_BYTES);
  const crc = view.getUint32(0, true);
  const length = view.getUint32(4, true);
  if (length > MAX_PAYLOAD_BYTES) return { ok: false, reason: `implausible record length ${length}` };
  const recordEnd = pos + RECORD_HEADER_BYTES + length;
  if (recordEnd > end) return { ok: false, reason: `short record (${length} payload bytes declared, ${end - pos - RECORD_HEADER_BYTES} present)` };
  if (crcOf(buf, pos + 4, recordEnd) !== crc) return { ok: false, reason: "checksum mismatch" };
  return { ok: true, record: { type, payloadStart: pos + RECORD_HEADER_BYTES, payloadEnd: recordEnd } };
}

/** Offset of the first position after `from` at which a whole valid record starts, or -1. */
export function findValidRecordAfter(buf: Uint8Array, from: number): number {
  for (let q = from + 1; q + RECORD_HEADER_BYTES <= buf.length; q++) {
    if (readRecord(buf, q).ok) return q;
  }
  return -1;
}

/** Builds the bytes of one write: many records back to back in one growable buffer. */
export class RecordBatch {
  private buf: Uint8Array;
  private view: DataView;
  private used = 0;
  private openRecord = -1;

  constructor(capacity = 4096) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.used;
  }

  /**
   * Starts a record with a payload of exactly `payloadBytes`; returns the payload's offset in
   * `bytes`/`dataView` for the caller to fill, then call end().
   */
  begin(type: RecordType, payloadBytes: number): number {
    if (this.openRecord >= 0) throw new Error("RecordBatch.begin: previous record not ended");
    const total = RECORD_HEADER_BYTES + payloadBytes;
    this.ensure(total);
    this.openRecord = this.used;
    this.view.setUint32(this.used + 4, payloadBytes, true);
    this.view.setUint8(this.used + 8, type);
    this.used += total;
    return this.openRecord + RECORD_HEADER_BYTES;
  }

  /** Seals the open record (computes its checksum); returns its offset within the batch. */
  end(): number {
    const start = this.openRecord;
    if (start < 0) throw new Error("RecordBatch.end: no open record");
    this.view.setUint32(start, crcOf(this.buf, start + 4, this.used), true);
    this.openRecord = -1;
    return start;
  }

  get bytes(): Uint8Array {
    return this.buf;
  }

  get dataView(): DataView {
    return this.view;
  }

  /** The finished batch (a view, valid until the next begin()). */
  finish(): Uint8Array {
    if (this.openRecord >= 0) throw new Error("RecordBatch.finish: record not ended");
    return this.buf.subarray(0, this.used);
  }

  private ensure(extra: number): void {
    if (this.used + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.used + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.used));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}
