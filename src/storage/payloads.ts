// Payload encodings of each record type. Entries and hard state (written on every save) are
// fixed binary layouts; the rare records (segment header, snapshot, compaction) are JSON.

import type { ConfState, Entry, EntryType, HardState, SnapshotMeta } from "../raft/types";
import { RecordBatch, RecordType } from "./record";

const TWO_32 = 0x1_0000_0000;
/** index u64 | term u64 | entry type u8 | data */
export const ENTRY_PAYLOAD_OVERHEAD = 17;

export interface SegmentHeader {
  version: 1;
  /** Index the next entry appended was expected to have when the segment was started. */
  firstIndex: number;
  snapshot: SnapshotMeta;
  hardState: HardState;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function setU64(view: DataView, at: number, n: number): void {
  view.setUint32(at, Math.floor(n / TWO_32), true);
  view.setUint32(at + 4, n >>> 0, true);
}

function getU64(view: DataView, at: number): number {
  return view.getUint32(at, true) * TWO_32 + view.getUint32(at + 4, true);
}

function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Appends an entry record; returns its offset within the batch. */
export function addEntry(batch: RecordBatch, e: Entry): number {
  const at = batch.begin(RecordType.Entry, ENTRY_PAYLOAD_OVERHEAD + e.data.length);
  const view = batch.dataView;
  setU64(view, at, e.index);
  setU64(view, at + 8, e.term);
  view.setUint8(at + 16, e.type);
  batch.bytes.set(e.data, at + ENTRY_PAYLOAD_OVERHEAD);
  return batch.end();
}

export function decodeEntry(payload: Uint8Array): Entry {
  if (payload.length < ENTRY_PAYLOAD_OVERHEAD) throw new Error(`entry payload too short (${payload.length} bytes)`);
  const view = viewOf(payload);
  return {
    index: getU64(view, 0),
    term: getU64(view, 8),
    type: view.getUint8(16) as EntryType,
    data: payload.subarray(ENTRY_PAYLOAD_OVERHEAD),
  };
}

/** index and term of an entry payload without decoding the data. */
export function peekEntry(payload: Uint8Array): { index: number; term: number } {
  const view = viewOf(payload);
  return { index: getU64(view, 0), term: getU64(view, 8) };
}

/** term u64 | commit u64 | vote (utf-8) */
export function addHardState(batch: RecordBatch, hs: HardState): void {
  const vote = encoder.encode(hs.vote);
  const at = batch.begin(RecordType.HardState, 16 + vote.length);
  setU64(batch.dataView, at, hs.term);
  setU64(batch.dataView, at + 8, hs.commit);
  batch.bytes.set(vote, at + 16);
  batch.end();
}

export function decodeHardState(payload: Uint8Array): HardState {
  if (payload.length < 16) throw new Error(`hard state payload too short (${payload.length} bytes)`);
  const view = viewOf(payload);
  return { term: getU64(view, 0), commit: getU64(view, 8), vote: decoder.decode(payload.subarray(16)) };
}

export function addTruncate(batch: RecordBatch, fromIndex: number): void {
  const at = batch.begin(RecordType.Truncate, 8);
  setU64(batch.dataView, at, fromIndex);
  batch.end();
}

export function decodeTruncate(payload: Uint8Array): number {
  if (payload.length !== 8) throw new Error(`truncation payload has ${payload.length} bytes, want 8`);
  return getU64(viewOf(payload), 0);
}

function addJson(batch: RecordBatch, type: RecordType, value: unknown): void {
  const bytes = encoder.encode(JSON.stringify(value));
  const at = batch.begin(type, bytes.length);
  batch.bytes.set(bytes, at);
  batch.end();
}

/** Type is Snapshot (log replaced) or Compact (prefix dropped); the payload is the same. */
export function addSnapshotMeta(batch: RecordBatch, type: RecordType.Snapshot | RecordType.Compact, meta: SnapshotMeta): void {
  addJson(batch, type, meta);
}

export function addSegmentHeader(batch: RecordBatch, header: SegmentHeader): void {
  addJson(batch, RecordType.SegmentHeader, header);
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === "string");
}

function asSnapshotMeta(v: unknown): SnapshotMeta {
  const m = v as { index?: unknown; term?: unknown; conf?: { voters?: unknown; learners?: unknown } } | null;
  if (!m || !isCount(m.index) || !isCount(m.term) || !m.conf || !isStringArray(m.conf.voters) || !isStringArray(m.conf.learners)) {
    throw new Error("malformed snapshot meta");
  }
  const conf: ConfState = { voters: [...m.conf.voters], learners: [...m.conf.learners] };
  return { index: m.index, term: m.term, conf };
}

function asHardState(v: unknown): HardState {
  const h = v as { term?: unknown; vote?: unknown; commit?: unknown } | null;
  if (!h || !isCount(h.term) || !isCount(h.commit) || typeof h.vote !== "string") throw new Error("malformed hard state");
  return { term: h.term, vote: h.vote, commit: h.commit };
}

export function decodeSnapshotMeta(payload: Uint8Array): SnapshotMeta {
  return asSnapshotMeta(JSON.parse(decoder.decode(payload)));
}

export function decodeSegmentHeader(payload: Uint8Array): SegmentHeader {
  const h = JSON.parse(decoder.decode(payload)) as { version?: unknown; firstIndex?: unknown; snapshot?: unknown; hardState?: unknown };
  if (h.version !== 1) throw new Error(`unsupported segment version ${String(h.version)}`);
  if (!isCount(h.firstIndex)) throw new Error("malformed segment header");
  return { version: 1, firstIndex: h.firstIndex, snapshot: asSnapshotMeta(h.snapshot), hardState: asHardState(h.hardState) };
}
