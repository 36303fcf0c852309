import { fromBinary } from "@bufbuild/protobuf";
import { type Event, WatchResponseSchema } from "../gen/rbkv/v1/kv_pb";
import { readU64, viewOf } from "./bytes";
import type { BatchOp, Db } from "./db";
import { HISTORY_END, historyKey, META_HISTORY_FIRST, META_REVISION, revisionOfHistoryKey } from "./keys";
import { inRange } from "./range";

// Watch history: the events of each revision under "h" revision. Every revision has at least one
// event, so the retained history is exactly the revisions [first, current], and pruning needs no
// reads: delete "h" first, first+1, ... in the same batch that adds new revisions.

/** Upper bound on history records deleted per batch (catching up after the bound was lowered). */
const MAX_PRUNE_PER_BATCH = 4096;

/** Adds the deletes that keep about `keep` revisions; returns the new first retained revision. */
export function pruneHistory(ops: BatchOp[], first: number, current: number, keep: number): number {
  const target = Math.max(first, current - keep + 1);
  const stop = Math.min(target, first + MAX_PRUNE_PER_BATCH);
  for (let rev = first; rev < stop; rev++) ops.push({ type: "del", key: historyKey(rev) });
  return stop;
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
 * Events since `startRevision` on [key, rangeEnd) (etcd semantics). Stops after the revision at
 * which `limit` events (0: no limit) were collected, so a page never splits a revision.
 */
export async function readHistory(
  db: Db,
  startRevision: number,
  key: Uint8Array,
  rangeEnd: Uint8Array,
  limit: number,
): Promise<HistoryPage> {
  const snapshot = db.snapshot();
  try {
    const first = readMetaNumber(db.getSync(META_HISTORY_FIRST, { snapshot }), 1);
    const current = readMetaNumber(db.getSync(META_REVISION, { snapshot }), 0);
    const start = Math.max(1, startRevision);
    if (start < first) return { events: [], compactRevision: first, nextRevision: first };
    const events: Event[] = [];
    const it = db.iterator({ gte: historyKey(start), lt: HISTORY_END, snapshot });
    let next = Math.max(start, current + 1);
    try {
      scan: for (;;) {
        const rows = await it.nextv(SCAN_BATCH);
        if (rows.length === 0) break;
        for (const [k, v] of rows) {
          for (const e of fromBinary(WatchResponseSchema, v).events) {
            if (e.kv && inRange(e.kv.key, key, rangeEnd)) events.push(e);
          }
          if (limit > 0 && events.length >= limit) {
            next = revisionOfHistoryKey(k) + 1;
            break scan;
          }
        }
      }
    } finally {
      await it.close();
    }
    return { events, compactRevision: 0, nextRevision: next };
  } finally {
    await snapshot.close();
  }
}

export function readMetaNumber(bytes: Uint8Array | undefined, fallback: number): number {
  return bytes === undefined ? fallback : readU64(viewOf(bytes), 0);
}
