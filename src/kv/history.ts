import { fromBinary } from "@bufbuild/protobuf";
import { type Event, EventType, WatchResponseSchema } from "../gen/rbkv/v1/kv_pb";
import { readU64, viewOf } from "./bytes";
import { type Change, changeRevision } from "./change";
import type { BatchOp, Db } from "./db";
import { encodeHistoryRecord } from "./history_codec";
import { HISTORY_END, HISTORY_START, historyKey, META_HISTORY_FIRST, META_REVISION } from "./keys";
import { PrevResolver } from "./history_prev";
import { inRange } from "./range";

// Watch history: "h" revision -> the events of the revisions up to and including that one since
// the previous record (a WatchResponse; concatenated WatchResponses are one WatchResponse). An
// applied batch writes its changes as one record (a few, when large), not one per revision: a
// LevelDB op costs as much as the change itself. Records never split a revision, so seeking to
// the first key >= revision r finds the record holding r.
//
// The retained history is [first, current]. Pruning moves `first` in steps and then deletes the
// records that end before it with a range delete in the background; a record that straddles
// `first` keeps some older events, which readers skip.

/** A batch's changes are cut into records of about this size (at revision boundaries). */
const RECORD_TARGET_BYTES = 64 << 10;

/** Appends the history records of one applied batch's changes (in revision order) to `ops`. */
export function appendHistoryRecords(ops: BatchOp[], changes: readonly Change[]): void {
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i];
    bytes += c.key.length + (c.type === EventType.PUT ? c.kv.value.length : 0) + 32;
    const endOfRevision = i + 1 === changes.length || changeRevision(changes[i + 1]) !== changeRevision(c);
    if (endOfRevision && (bytes >= RECORD_TARGET_BYTES || i + 1 === changes.length)) {
      const slice = from === 0 && i + 1 === changes.length ? changes : changes.slice(from, i + 1);
      ops.push({ type: "put", key: historyKey(changeRevision(c)), value: encodeHistoryRecord(slice) });
      from = i + 1;
      bytes = 0;
    }
  }
}

/** How far `first` moves at a time: about 1/16 of the history kept, at most 1,024 revisions. */
export function pruneStep(keep: number): number {
  return Math.min(1024, Math.max(1, Math.floor(keep / 16)));
}

/** The new first retained revision if it is time to prune, else null. */
export function nextHistoryFirst(first: number, current: number, keep: number): number | null {
  const target = current - keep + 1;
  return target - first >= pruneStep(keep) ? target : null;
}

/**
 * Deletes the records that end in [from, first); `from` 0 means from the start of the history
 * (the first prune after opening also removes what a crash left behind). Starting where the last
 * delete ended matters: LevelDB keeps the deleted records as tombstones until a compaction drops
 * them, and a range delete from the start would step over every one of them again.
 */
export function deleteHistoryBefore(db: Db, from: number, first: number): Promise<void> {
  return db.clear({ gte: from > 0 ? historyKey(from) : HISTORY_START, lt: historyKey(first) });
}

export interface HistoryPage {
  /** Events at revisions >= the start, in order, filtered by key range. */
  events: Event[];
  /** Non-zero when the start was older than the history: the first revision still retained. */
  compactRevision: number;
  /** The revision to read from next time (one past the last revision examined). */
  nextRevision: number;
}

const SCAN_BATCH = 64;

/**
 * Events since `startRevision` on [key, rangeEnd) (etcd semantics), with their prev_kv when
 * `prevKv` (see PrevResolver). Stops after the revision at which `limit` events (0: no limit) were
 * collected, so a page never splits a revision.
 */
export async function readHistory(
  db: Db,
  startRevision: number,
  key: Uint8Array,
  rangeEnd: Uint8Array,
  limit: number,
  prevKv: boolean,
): Promise<HistoryPage> {
  const snapshot = db.snapshot();
  try {
    const first = readMetaNumber(db.getSync(META_HISTORY_FIRST, { snapshot }), 1);
    const current = readMetaNumber(db.getSync(META_REVISION, { snapshot }), 0);
    const start = Math.max(1, startRevision);
    if (start < first) return { events: [], compactRevision: first, nextRevision: first };
    const events: Event[] = [];
    const prevs = new PrevResolver(prevKv, first);
    const it = db.iterator({ gte: historyKey(start), lt: HISTORY_END, snapshot });
    let next = Math.max(start, current + 1);
    /** Once `limit` events are in: the revision they reached, which is read to its end. */
    let last = 0;
    try {
      scan: for (;;) {
        const rows = await it.nextv(SCAN_BATCH);
        if (rows.length === 0) break;
        for (const [, v] of rows) {
          for (const e of fromBinary(WatchResponseSchema, v).events) {
            const revision = Number(e.kv?.modRevision ?? 0);
            if (last !== 0 && revision > last) break scan;
            if (!e.kv || !inRange(e.kv.key, key, rangeEnd)) continue;
            if (revision >= start) {
              prevs.take(e);
              events.push(e);
              if (last === 0 && limit > 0 && events.length >= limit) last = revision;
            }
            prevs.pass(e);
          }
        }
      }
    } finally {
      await it.close();
    }
    await prevs.finish(db, snapshot);
    return { events, compactRevision: 0, nextRevision: last !== 0 ? last + 1 : next };
  } finally {
    await snapshot.close();
  }
}

export function readMetaNumber(bytes: Uint8Array | undefined, fallback: number): number {
  return bytes === undefined ? fallback : readU64(viewOf(bytes), 0);
}
