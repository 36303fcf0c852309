// Rebuilds the log's state from its segment files on open: replays every record in order,
// truncates a torn tail (a crash mid-write) and refuses anything that looks like corruption of
// data that was already durable. Zeros after a segment's last record are its runway, not damage.

import * as fs from "node:fs";
import type { HardState, SnapshotMeta } from "../raft/types";
import { EntryIndex } from "./entry_index";
import { decodeHardState, decodeSegmentHeader, decodeSnapshotMeta, decodeTruncate, peekEntry } from "./payloads";
import { findValidRecordAfter, readRecord, RecordType, type RecordView } from "./record";
import { fsyncDir, listSegmentFiles, type Segment } from "./segment_files";

export interface RecoveredLog {
  snapshot: SnapshotMeta;
  hardState: HardState;
  index: EntryIndex;
  /** Open segments, oldest first; the last one is open for writing. */
  segments: Segment[];
}

class CorruptionError extends Error {
  constructor(filePath: string, offset: number, reason: string) {
    super(`corrupt log record in ${filePath} at byte offset ${offset}: ${reason}; the log needs repair by hand (or restore this node from a peer)`);
  }
}

/** Replay state. The index may start above snapshot.index + 1 while replaying (see apply). */
class Replay {
  snapshot: SnapshotMeta = { index: 0, term: 0, conf: { voters: [], learners: [] } };
  hardState: HardState = { term: 0, vote: "", commit: 0 };
  index = new EntryIndex(1);

  /**
   * Segments wholly below a compaction point are deleted, so the first remaining segment may
   * start after its header's snapshot index: entries in between lived in deleted segments.
   * Such a gap is allowed while replaying, as long as a later Compact record covers it.
   */
  apply(rec: RecordView, data: Uint8Array, seq: number, offset: number, isFirstSegment: boolean): void {
    const payload = data.subarray(rec.payloadStart, rec.payloadEnd);
    if ((rec.type === RecordType.SegmentHeader) !== (offset === 0)) {
      throw new Error(offset === 0 ? "segment does not start with a header record" : "segment header in the middle of a segment");
    }
    switch (rec.type) {
      case RecordType.SegmentHeader: {
        const h = decodeSegmentHeader(payload);
        if (isFirstSegment) {
          if (h.snapshot.index >= h.firstIndex) throw new Error(`header snapshot ${h.snapshot.index} not below first index ${h.firstIndex}`);
          this.snapshot = h.snapshot;
          this.hardState = h.hardState;
          this.index.reset(h.firstIndex);
        } else if (h.firstIndex !== this.index.last() + 1) {
          throw new Error(`segment starts at index ${h.firstIndex} but the previous one ends at ${this.index.last()}`);
        }
        return;
      }
      case RecordType.Entry: {
        const { index, term } = peekEntry(payload);
        if (index !== this.index.last() + 1) throw new Error(`entry ${index} does not follow ${this.index.last()}`);
        this.index.append(index, term, seq, offset, rec.payloadEnd - offset);
        return;
      }
      case RecordType.HardState:
        this.hardState = decodeHardState(payload);
        return;
      case RecordType.Truncate: {
        const from = decodeTruncate(payload);
        if (from <= this.snapshot.index || from > this.index.last() + 1) throw new Error(`truncation at ${from} outside the log`);
        this.index.truncateFrom(from);
        return;
      }
      case RecordType.Snapshot:
        this.snapshot = decodeSnapshotMeta(payload);
        this.index.reset(this.snapshot.index + 1);
        return;
      case RecordType.Compact: {
        const meta = decodeSnapshotMeta(payload);
        if (meta.index > this.index.last()) throw new Error(`compaction to ${meta.index} past the last entry ${this.index.last()}`);
        this.snapshot = meta;
        this.index.dropThrough(meta.index);
        return;
      }
    }
  }
}

/** Returns null when the directory holds no log yet. */
export function recoverLog(dir: string, logger: (msg: string) => void): RecoveredLog | null {
  const allFiles = listSegmentFiles(dir);
  // Deleting compacted segments is not ordered on disk, so a crash can leave a few old ones
  // behind a gap in the sequence; everything before the last gap was meant to be gone.
  let start = 0;
  for (let i = 1; i < allFiles.length; i++) if (allFiles[i].seq !== allFiles[i - 1].seq + 1) start = i;
  const leftovers = allFiles.slice(0, start);
  const files = allFiles.slice(start);

  const replay = new Replay();
  const segments: Segment[] = [];
  try {
    for (let k = 0; k < files.length; k++) {
      const f = files[k];
      const isLast = k === files.length - 1;
      const data = new Uint8Array(fs.readFileSync(f.path));
      let pos = 0;
      while (pos < data.length) {
        const r = readRecord(data, pos);
        if (!r.ok) {
          // The zero-filled runway (runway.ts) after the last record: the segment ends here.
          if (allZero(data, pos)) break;
          if (!isLast) throw new CorruptionError(f.path, pos, `${r.reason} in a segment that is not the last`);
          const next = findValidRecordAfter(data, pos);
          if (next >= 0) throw new CorruptionError(f.path, pos, `${r.reason}, yet a valid record follows at byte offset ${next}`);
          truncateFile(f.path, pos);
          logger(`truncated torn tail of ${f.path} at byte offset ${pos} (${r.reason}; ${data.length - pos} bytes discarded)`);
          break;
        }
        try {
          replay.apply(r.record, data, f.seq, pos, k === 0);
        } catch (err) {
          if (err instanceof CorruptionError) throw err;
          throw new CorruptionError(f.path, pos, (err as Error).message);
        }
        pos = r.record.payloadEnd;
      }
      if (pos === 0) {
        if (!isLast) throw new CorruptionError(f.path, 0, "empty segment that is not the last");
        // Only a segment whose very first write was torn can be empty: nothing in it was durable.
        logger(`removing segment ${f.path}: no complete record (its first write was torn)`);
        fs.unlinkSync(f.path);
        fsyncDir(dir);
        continue;
      }
      segments.push({ seq: f.seq, firstIndex: f.firstIndex, path: f.path, fd: fs.openSync(f.path, isLast ? "r+" : "r"), size: pos });
    }
    if (segments.length === 0) {
      if (leftovers.length > 0) throw new Error(`log in ${dir}: only compacted leftovers remain (${leftovers[0].path} ...)`);
      return null;
    }
    if (replay.index.first() !== replay.snapshot.index + 1) {
      throw new Error(
        `log in ${dir} has a gap: entries ${replay.snapshot.index + 1}..${replay.index.first() - 1} are missing (segment ${files[0].path} is not the oldest needed)`,
      );
    }
  } catch (err) {
    for (const s of segments) fs.closeSync(s.fd);
    throw err;
  }
  // Only once the rest replayed cleanly, so a lost middle file never costs us the older ones.
  for (const f of leftovers) {
    logger(`removing leftover compacted segment ${f.path}`);
    fs.unlinkSync(f.path);
  }
  const last = segments[segments.length - 1];
  if (files[files.length - 1].path !== last.path) {
    // The torn last segment was removed: the one before becomes the write target.
    fs.closeSync(last.fd);
    last.fd = fs.openSync(last.path, "r+");
  }
  return { snapshot: replay.snapshot, hardState: replay.hardState, index: replay.index, segments };
}

function allZero(data: Uint8Array, from: number): boolean {
  for (let i = from; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}

function truncateFile(filePath: string, length: number): void {
  const fd = fs.openSync(filePath, "r+");
  try {
    fs.ftruncateSync(fd, length);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
