import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EntryType, type Entry } from "../../src/raft/types";
import { mulberry32 } from "../../src/shared/mulberry32";
import { readRecord, type RecordType } from "../../src/storage/record";

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "rbkv-storage-"));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Deterministic PRNG. */
export const rng = mulberry32;

export function entry(index: number, term: number, size = 16, fill = index): Entry {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (fill * 31 + i) & 0xff;
  return { index, term, type: index % 5 === 0 ? EntryType.ConfChange : EntryType.Normal, data };
}

export function entries(from: number, to: number, term: number, size = 16): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term, size));
  return out;
}

/** Comparable form of entries (Uint8Array vs Buffer subclasses compare as plain arrays). */
export function plain(es: Entry[]): { index: number; term: number; type: EntryType; data: number[] }[] {
  return es.map((e) => ({ index: e.index, term: e.term, type: e.type, data: Array.from(e.data) }));
}

export function segmentFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith(".seg")).sort();
}

export interface RecordAt {
  offset: number;
  type: RecordType;
  end: number;
}

/** The records of a segment file, up to the zero-filled runway after them (if any). */
export function records(file: string): RecordAt[] {
  const data = new Uint8Array(fs.readFileSync(file));
  const out: RecordAt[] = [];
  for (let pos = 0; pos < data.length; ) {
    const r = readRecord(data, pos);
    if (!r.ok) {
      if (data.subarray(pos).every((b) => b === 0)) break;
      throw new Error(`unreadable test file at ${pos}`);
    }
    out.push({ offset: pos, type: r.record.type, end: r.record.payloadEnd });
    pos = r.record.payloadEnd;
  }
  return out;
}
