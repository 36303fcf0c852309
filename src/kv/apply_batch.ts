import type { Change } from "./change";
import { compareBytes, mapKey, u64Bytes } from "./bytes";
import type { BatchOp, Db } from "./db";
import { dataKey, expiryKey } from "./keys";
import { RecentKeys } from "./recent_keys";
import { DbSource, type KvSource } from "./read";
import { inRange } from "./range";
import { encodeStoredKv, type StoredKv } from "./record";

/**
 * The writes of one applyEntries call, collected into one LevelDB batch. Reads through it see the
 * committed database overlaid with the batch's own earlier writes, so later commands (and later
 * ops of a Txn) see earlier ones. Revisions are handed out per command: the first change a
 * command makes allocates the next revision, and all its other changes share it.
 */
export class ApplyBatch implements KvSource {
  readonly ops: BatchOp[] = [];
  /** Every change of the batch in revision order, for live watchers. */
  readonly changes: Change[] = [];
  private readonly overlay = new Map<string, { key: Uint8Array; kv: StoredKv | null; mapKey: string }>();
  private readonly committed: DbSource;
  private commandRevision = 0;

  constructor(
    db: Db,
    /** The store revision; grows as commands in this batch change things. */
    public revision: number,
    private readonly recent: RecentKeys = new RecentKeys(0, 0, 0),
  ) {
    this.committed = new DbSource(db);
  }

  get(key: Uint8Array): StoredKv | undefined {
    const k = mapKey(key);
    const pending = this.overlay.get(k);
    if (pending) return pending.kv ?? undefined;
    const known = this.recent.get(k);
    if (known !== undefined) return known ?? undefined;
    return this.committed.get(key);
  }

  /** The final value of every key this batch wrote (null: deleted). */
  writes(): Iterable<{ key: Uint8Array; kv: StoredKv | null; mapKey: string }> {
    return this.overlay.values();
  }

  async *scan(key: Uint8Array, rangeEnd: Uint8Array): AsyncIterable<[Uint8Array, StoredKv]> {
    // Collect first: callers may write to the batch while they iterate.
    const fromDb: [Uint8Array, StoredKv][] = [];
    for await (const row of this.committed.scan(key, rangeEnd)) {
      if (!this.overlay.has(mapKey(row[0]))) fromDb.push(row);
    }
    const fromOverlay: [Uint8Array, StoredKv][] = [];
    for (const { key: k, kv } of this.overlay.values()) {
      if (kv && inRange(k, key, rangeEnd)) fromOverlay.push([k, kv]);
    }
    if (fromOverlay.length === 0) {
      yield* fromDb;
      return;
    }
    yield* [...fromDb, ...fromOverlay].sort((a, b) => compareBytes(a[0], b[0]));
  }

  beginCommand(): void {
    this.commandRevision = 0;
  }

  /** The revision of the current command's changes, allocated on first use. */
  writeRevision(): number {
    if (this.commandRevision === 0) this.commandRevision = ++this.revision;
    return this.commandRevision;
  }

  setKv(key: Uint8Array, next: StoredKv, prev: StoredKv | undefined): void {
    if (prev && prev.expiresAtMs !== 0 && prev.expiresAtMs !== next.expiresAtMs) {
      this.ops.push({ type: "del", key: expiryKey(prev.expiresAtMs, key) });
    }
    if (next.expiresAtMs !== 0) {
      this.ops.push({ type: "put", key: expiryKey(next.expiresAtMs, key), value: u64Bytes(next.modRevision) });
    }
    this.ops.push({ type: "put", key: dataKey(key), value: encodeStoredKv(next) });
    const k = mapKey(key);
    this.overlay.set(k, { key, kv: next, mapKey: k });
  }

  deleteKv(key: Uint8Array, prev: StoredKv): void {
    if (prev.expiresAtMs !== 0) this.ops.push({ type: "del", key: expiryKey(prev.expiresAtMs, key) });
    this.ops.push({ type: "del", key: dataKey(key) });
    const k = mapKey(key);
    this.overlay.set(k, { key, kv: null, mapKey: k });
  }

  /** Records a change (in revision order: the batch's history records and live events). */
  emit(change: Change): void {
    this.changes.push(change);
  }
}
