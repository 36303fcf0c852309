// Durable Raft log storage: a segmented append-only file log with an in-memory index.
// On disk: files log-<seq 20 digits>-<first index 20 digits>.seg, each a run of checksummed records
// (record.ts) that starts with a header carrying the state at the segment's start (payloads.ts).
// Hard state lives in the record stream too, so a save is one write and one fdatasync.

import * as fs from "node:fs";
import * as path from "node:path";
import type { Entry, HardState, LogStorage, SnapshotMeta } from "../raft/types";
import { cloneMeta } from "../raft/memory_storage";
import { EntryIndex } from "./entry_index";
import { addEntry, addHardState, addSegmentHeader, addSnapshotMeta, addTruncate, decodeEntry, ENTRY_PAYLOAD_OVERHEAD, type SegmentHeader } from "./payloads";
import { readRecord, RECORD_HEADER_BYTES, RecordBatch, RecordType } from "./record";
import { recoverLog } from "./recovery";
import { fdatasync, fsyncDir, readFully, segmentName, writeFully, type Segment } from "./segment_files";
import { Runway } from "./runway";
import { TailCache } from "./tail_cache";

export interface FileLogStorageOptions {
  /** A new segment is started once the current one reaches this size. Default 64 MiB. */
  segmentBytes?: number;
  /** Receives recovery notices (torn tails truncated, leftover files removed). */
  logger?: (msg: string) => void;
  /** Compaction point of a brand-new log (ignored when the directory already holds one). */
  initialSnapshot?: SnapshotMeta;
  /** Budget for recently appended entries kept in memory for reads. Default 4 MiB; 0 disables. */
  cacheBytes?: number;
  /** Zero-filled space kept ahead of the writes (runway.ts). Default 4 MiB; 0 disables. */
  runwayBytes?: number;
}

export interface StorageUpdate {
  hardState: HardState | null;
  entries: Entry[];
  snapshot: SnapshotMeta | null;
}

const EMPTY_SNAPSHOT: SnapshotMeta = { index: 0, term: 0, conf: { voters: [], learners: [] } };
const EMPTY_HARD_STATE: HardState = { term: 0, vote: "", commit: 0 };
const ENTRY_RECORD_OVERHEAD = RECORD_HEADER_BYTES + ENTRY_PAYLOAD_OVERHEAD;

export class FileLogStorage implements LogStorage {
  private readonly segments: Segment[];
  private readonly segmentsBySeq = new Map<number, Segment>();
  private readonly cache: TailCache;
  private readonly initial: { hardState: HardState; snapshot: SnapshotMeta };
  private snap: SnapshotMeta;
  private hard: HardState;
  private saving = false;
  private closed = false;
  /** Set when a write or fsync failed: the file's state is unknown, so no further writes. */
  private failure: Error | null = null;
  /** Serializes save() and compact(), which both append to the active segment. */
  private writeQueue: Promise<void> = Promise.resolve();
  private readonly runway: Runway;

  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    private readonly index: EntryIndex,
    segments: Segment[],
    snapshot: SnapshotMeta,
    hardState: HardState,
    cacheBytes: number,
    runwayBytes: number,
    logger: (msg: string) => void,
  ) {
    this.segments = segments;
    for (const s of segments) this.segmentsBySeq.set(s.seq, s);
    this.snap = snapshot;
    this.hard = hardState;
    this.cache = new TailCache(cacheBytes);
    this.runway = new Runway({
      targetBytes: runwayBytes,
      limitBytes: segmentBytes,
      onError: (err) => logger(`could not zero-fill log space ahead of the writes (${err.message}); appending instead`),
    });
    this.initial = { hardState: { ...hardState }, snapshot: cloneMeta(snapshot) };
  }

  static async open(dir: string, options: FileLogStorageOptions = {}): Promise<FileLogStorage> {
    const segmentBytes = options.segmentBytes ?? 64 << 20;
    const logger = options.logger ?? (() => {});
    fs.mkdirSync(dir, { recursive: true });
    let recovered = recoverLog(dir, logger);
    if (!recovered) {
      const snapshot = cloneMeta(options.initialSnapshot ?? EMPTY_SNAPSHOT);
      const header = headerRecord({ version: 1, firstIndex: snapshot.index + 1, snapshot, hardState: EMPTY_HARD_STATE });
      const first = createSegment(dir, 1, snapshot.index + 1, header);
      await fdatasync(first.fd);
      fsyncDir(dir);
      recovered = { snapshot, hardState: { ...EMPTY_HARD_STATE }, index: new EntryIndex(snapshot.index + 1), segments: [first] };
    }
    const { index, segments, snapshot, hardState } = recovered;
    return new FileLogStorage(dir, segmentBytes, index, segments, snapshot, hardState, options.cacheBytes ?? 4 << 20, options.runwayBytes ?? 4 << 20, logger);
  }

  initialState(): { hardState: HardState; snapshot: SnapshotMeta } {
    return { hardState: { ...this.initial.hardState }, snapshot: cloneMeta(this.initial.snapshot) };
  }

  hardState(): HardState {
    return { ...this.hard };
  }

  snapshot(): SnapshotMeta {
    return cloneMeta(this.snap);
  }

  firstIndex(): number {
    return this.snap.index + 1;
  }

  lastIndex(): number {
    return this.index.last();
  }

  term(index: number): number {
    if (index === this.snap.index) return this.snap.term;
    if (!this.index.has(index)) throw new Error(`term(${index}) outside ${this.snap.index}..${this.lastIndex()}`);
    return this.index.term(index);
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo <= this.snap.index || hi > this.lastIndex() + 1) {
      throw new Error(`entries(${lo}, ${hi}) outside ${this.firstIndex()}..${this.lastIndex()}`);
    }
    // Decide how many entries fit from the index alone, then read only those.
    let end = lo;
    let bytes = 0;
    while (end < hi) {
      bytes += this.index.recordLength(end) - ENTRY_RECORD_OVERHEAD;
      if (end > lo && bytes > maxBytes) break;
      end++;
    }
    const out: Entry[] = [];
    const fromCache = Math.max(lo, Math.min(end, this.cache.first()));
    this.readFromDisk(lo, fromCache, out);
    for (let i = fromCache; i < end; i++) out.push(this.cache.get(i)!);
    return out;
  }

  /**
   * Makes snapshot (log replaced), entries (after conflict truncation) and hard state durable,
   * in that order, with one write and one fdatasync (two when a new segment is started).
   */
  async save(update: StorageUpdate): Promise<void> {
    if (this.saving) throw new Error("FileLogStorage.save: called while a previous save() is still in progress");
    this.saving = true;
    try {
      await this.exclusive(() => this.saveNow(update));
    } finally {
      this.saving = false;
    }
  }

  /** Drops entries up to meta.index (which must be in the log) and deletes segments below it. */
  async compact(meta: SnapshotMeta): Promise<void> {
    await this.exclusive(() => this.compactNow(meta));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writeQueue.catch(() => {});
    await this.runway.settle();
    this.closed = true;
    for (const s of this.segments) fs.closeSync(s.fd);
    this.segments.length = 0;
    this.segmentsBySeq.clear();
    this.cache.clear();
  }

  private exclusive(op: () => Promise<void>): Promise<void> {
    const run = this.writeQueue.then(() => {
      if (this.closed) throw new Error("FileLogStorage: closed");
      if (this.failure) throw new Error(`FileLogStorage: an earlier write failed (${this.failure.message}); reopen to recover`);
      return op();
    });
    this.writeQueue = run.catch(() => {});
    return run;
  }

  private async saveNow({ hardState, entries, snapshot }: StorageUpdate): Promise<void> {
    let snapIndex = this.snap.index;
    let last = this.lastIndex();
    if (snapshot) {
      if (snapshot.index < this.snap.index) throw new Error(`save: snapshot ${snapshot.index} is older than the compaction point ${this.snap.index}`);
      snapIndex = last = snapshot.index;
    }
    const first = entries.length > 0 ? entries[0].index : 0;
    if (entries.length > 0) {
      if (first <= snapIndex) throw new Error(`save: entry ${first} is at or below the compaction point ${snapIndex}`);
      if (first > last + 1) throw new Error(`save: entry ${first} would leave a gap after ${last}`);
      for (let i = 1; i < entries.length; i++) {
        if (entries[i].index !== first + i) throw new Error(`save: entries not contiguous at ${entries[i].index}`);
      }
    }
    if (!snapshot && entries.length === 0 && !hardState) return;

    const batch = new RecordBatch(estimateBytes(entries));
    let target = this.activeSegment();
    const rollover = target.size >= this.segmentBytes;
    if (rollover) {
      addSegmentHeader(batch, { version: 1, firstIndex: this.lastIndex() + 1, snapshot: this.snap, hardState: this.hard });
    }
    if (snapshot) addSnapshotMeta(batch, RecordType.Snapshot, snapshot);
    if (entries.length > 0 && first <= last) addTruncate(batch, first);
    const offsets = entries.map((e) => addEntry(batch, e));
    if (hardState) addHardState(batch, hardState);
    const bytes = batch.finish();

    await this.durably(async () => {
      if (rollover) {
        await this.runway.settle();
        target = createSegment(this.dir, target.seq + 1, this.lastIndex() + 1, bytes);
        this.segments.push(target);
        this.segmentsBySeq.set(target.seq, target);
        await fdatasync(target.fd);
        fsyncDir(this.dir);
      } else {
        await this.runway.append(target, bytes);
      }
    });

    const base = rollover ? 0 : target.size - bytes.length;
    if (snapshot) {
      this.snap = cloneMeta(snapshot);
      this.index.reset(snapshot.index + 1);
      this.cache.clear();
    }
    if (entries.length > 0) {
      this.index.truncateFrom(first);
      this.cache.truncateFrom(first);
      for (let i = 0; i < entries.length; i++) {
        const recordLength = ENTRY_RECORD_OVERHEAD + entries[i].data.length;
        this.index.append(entries[i].index, entries[i].term, target.seq, base + offsets[i], recordLength);
      }
      this.cache.append(entries);
    }
    if (hardState) this.hard = { ...hardState };
    if (snapshot) this.deleteObsoleteSegments();
  }

  private async compactNow(meta: SnapshotMeta): Promise<void> {
    if (meta.index <= this.snap.index) return;
    if (meta.index > this.lastIndex()) throw new Error(`compact(${meta.index}) past last index ${this.lastIndex()}`);
    if (meta.term !== this.index.term(meta.index)) {
      throw new Error(`compact(${meta.index}): term ${meta.term} does not match the log's term ${this.index.term(meta.index)}`);
    }
    const batch = new RecordBatch(256);
    addSnapshotMeta(batch, RecordType.Compact, meta);
    const bytes = batch.finish();
    const target = this.activeSegment();
    await this.durably(() => this.runway.append(target, bytes));
    this.snap = cloneMeta(meta);
    this.index.dropThrough(meta.index);
    this.cache.dropThrough(meta.index);
    this.deleteObsoleteSegments();
  }

  private async durably(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      this.failure = err as Error;
      throw err;
    }
  }

  /**
   * Live entries sit in segments in index order, so every segment older than the one holding the
   * first live entry (or older than the active one, when the log is empty) holds nothing needed:
   * the durable Compact/Snapshot record and the next segment's header carry the state forward.
   */
  private deleteObsoleteSegments(): void {
    const keepFrom = this.index.size() > 0 ? this.index.segment(this.index.first()) : this.activeSegment().seq;
    while (this.segments.length > 1 && this.segments[0].seq < keepFrom) {
      const s = this.segments.shift()!;
      this.segmentsBySeq.delete(s.seq);
      fs.closeSync(s.fd);
      fs.unlinkSync(s.path);
    }
  }

  private activeSegment(): Segment {
    const s = this.segments[this.segments.length - 1];
    if (!s) throw new Error("FileLogStorage: closed");
    return s;
  }

  /** Appends entries [lo, hi) to `out`, reading runs that are contiguous on disk in one read. */
  private readFromDisk(lo: number, hi: number, out: Entry[]): void {
    let i = lo;
    while (i < hi) {
      const seq = this.index.segment(i);
      const start = this.index.offset(i);
      let endOffset = start + this.index.recordLength(i);
      let j = i + 1;
      while (j < hi && this.index.segment(j) === seq && this.index.offset(j) === endOffset) {
        endOffset += this.index.recordLength(j);
        j++;
      }
      const segment = this.segmentsBySeq.get(seq);
      if (!segment) throw new Error(`FileLogStorage: segment ${seq} for entry ${i} is not open`);
      const buf = readFully(segment.fd, endOffset - start, start, segment.path);
      let pos = 0;
      for (let k = i; k < j; k++) {
        const r = readRecord(buf, pos);
        if (!r.ok || r.record.type !== RecordType.Entry) {
          throw new Error(`corrupt log record in ${segment.path} at byte offset ${start + pos}: ${r.ok ? "not an entry" : r.reason}`);
        }
        const e = decodeEntry(buf.subarray(r.record.payloadStart, r.record.payloadEnd));
        if (e.index !== k) throw new Error(`corrupt log record in ${segment.path} at byte offset ${start + pos}: holds entry ${e.index}, expected ${k}`);
        out.push(e);
        pos = r.record.payloadEnd;
      }
      i = j;
    }
  }
}

function estimateBytes(entries: Entry[]): number {
  let n = 512;
  for (const e of entries) n += ENTRY_RECORD_OVERHEAD + e.data.length;
  return n;
}

function headerRecord(header: SegmentHeader): Uint8Array {
  const batch = new RecordBatch(256);
  addSegmentHeader(batch, header);
  return batch.finish();
}

/** Creates segment file `seq` holding `content` (which starts with a header record); the caller fsyncs. */
function createSegment(dir: string, seq: number, firstIndex: number, content: Uint8Array): Segment {
  const filePath = path.join(dir, segmentName(seq, firstIndex));
  const fd = fs.openSync(filePath, "wx+");
  try {
    writeFully(fd, content, 0);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return { seq, firstIndex, path: filePath, fd, size: content.length };
}
