import { fromBinary } from "@bufbuild/protobuf";
import { type Event, EventType, type KeyValue, WatchResponseSchema } from "../gen/rbkv/v1/kv_pb";
import { mapKey } from "./bytes";
import type { Db, DbSnapshot } from "./db";
import { HISTORY_END, historyKey, historyKeyRevision } from "./keys";

/**
 * Gives the events read from the watch history their previous key-values. A record stores an
 * event's prev_kv as a reference (history_codec.ts): the revision of the previous version, which
 * is the last put of the same key at that revision. Most references point at events the same read
 * has just passed (a hot key, or several changes in one Txn); the others are looked up in the
 * records that hold them, all in one pass after the scan. A previous version older than the
 * retained history is gone, and its event has no prev_kv (as etcd's watch once it has compacted).
 */
export class PrevResolver {
  /** The last put of each in-range key the scan has passed, in history order. */
  private readonly lastPut = new Map<string, KeyValue>();
  private readonly unresolved: { event: Event; key: string; revision: number }[] = [];

  constructor(
    /** False: every event's prev_kv is dropped (the reader did not ask for it). */
    private readonly wanted: boolean,
    /** The first revision the history retains, as of the read's snapshot. */
    private readonly first: number,
  ) {}

  /** An event the read returns: resolves its prev_kv from what the scan has passed, or queues it. */
  take(event: Event): void {
    const ref = event.prevKv;
    if (!this.wanted) {
      event.prevKv = undefined;
      return;
    }
    if (!ref || ref.createRevision !== 0n) return; // none, or stored whole (an older record)
    event.prevKv = undefined;
    const revision = Number(ref.modRevision);
    if (revision < this.first) return; // first >= 1, so this also drops a reference to revision 0
    const key = mapKey(event.kv!.key);
    const passed = this.lastPut.get(key);
    if (passed && passed.modRevision === ref.modRevision) event.prevKv = passed;
    else this.unresolved.push({ event, key, revision });
  }

  /** Every in-range event the scan passes, in order, after `take` if it was taken. */
  pass(event: Event): void {
    if (this.wanted && event.type === EventType.PUT) this.lastPut.set(mapKey(event.kv!.key), event.kv!);
  }

  /** Looks up the references `take` could not resolve, in the records that hold them. */
  async finish(db: Db, snapshot: DbSnapshot): Promise<void> {
    if (this.unresolved.length === 0) return;
    this.unresolved.sort((a, b) => a.revision - b.revision);
    const it = db.iterator({ gte: historyKey(this.first), lt: HISTORY_END, snapshot });
    try {
      /** The puts of the last record read, by key and revision, and the last revision it holds. */
      let puts = new Map<string, KeyValue>();
      let recordEnd = 0;
      for (const ref of this.unresolved) {
        if (ref.revision > recordEnd) {
          it.seek(historyKey(ref.revision));
          const row = await it.next();
          if (!row) break;
          puts = new Map();
          for (const e of fromBinary(WatchResponseSchema, row[1]).events) {
            if (e.type === EventType.PUT && e.kv) puts.set(putKey(mapKey(e.kv.key), Number(e.kv.modRevision)), e.kv);
          }
          recordEnd = historyKeyRevision(row[0]);
        }
        ref.event.prevKv = puts.get(putKey(ref.key, ref.revision));
      }
    } finally {
      await it.close();
    }
  }
}

function putKey(key: string, revision: number): string {
  return `${revision}:${key}`;
}

