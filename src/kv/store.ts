import { existsSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import type { Command } from "../gen/rbkv/raft/v1/raft_pb";
import type { Event, GetResponse, RangeResponse } from "../gen/rbkv/v1/kv_pb";
import { type Entry, EntryType } from "../raft/types";
import { ApplyBatch } from "./apply_batch";
import { applyCommand, type CommandResult } from "./apply_command";
import { concatBytes, readU64, u64Bytes, viewOf } from "./bytes";
import { type Change, toEvent } from "./change";
import { decodeCommand, encodeCommand } from "./commands";
import { type Db, openDb } from "./db";
import { type ExpiredKey, readExpiredKeys } from "./expiry";
import { appendHistoryRecords, deleteHistoryBefore, type HistoryPage, nextHistoryFirst, readHistory, readMetaNumber } from "./history";
import { META_APPLIED, META_HISTORY_FIRST, META_MEMBERSHIP, META_REVISION } from "./keys";
import {
  applyConfChangeEntry,
  decodeMembership,
  emptyMembership,
  encodeMembership,
  type Membership,
} from "./membership";
import { DbSource, type RangeQuery, readGet, readRange } from "./read";
import { RecentKeys } from "./recent_keys";
import type { KvSnapshotMeta } from "./snapshot_format";
import { installSnapshotStream, snapshotStream } from "./snapshot_stream";

export interface KvStoreOptions {
  /** Watch history keeps at least this many revisions. */
  historyRevisions?: number;
  /** fsync each applied batch (the Raft log makes this unnecessary unless it is compacted eagerly). */
  sync?: boolean;
  /** Approximate bytes per snapshot stream chunk. */
  snapshotChunkBytes?: number;
}

/** What applying one entry produced. */
export type ApplyOutcome =
  | CommandResult
  | { kind: "noop"; revision: number }
  | { kind: "confChange"; membership: Membership; revision: number }
  /** The entry's data could not be decoded; it is skipped the same way on every member. */
  | { kind: "invalid"; error: string; revision: number };

/** The outcome of one applied entry, for the client waiting on that index. */
export type ApplyResult = ApplyOutcome & { index: number };

/** What a listener hears after each applied batch. */
export interface AppliedBatch {
  /**
   * Events in revision order (an event's revision is event.kv.modRevision). Built on first read
   * (and shared by every listener that reads it): with no watchers, none are built.
   */
  readonly events: Event[];
  revision: number;
  appliedIndex: number;
  /**
   * The whole store was replaced by a snapshot: the revisions between the previous batch and this
   * one have no events here (they are in the history the snapshot brought), so a listener that
   * follows the live events must read them from the history.
   */
  replaced?: boolean;
}

export type AppliedListener = (batch: AppliedBatch) => void;

const DEFAULT_HISTORY_REVISIONS = 100_000;

/**
 * The KV state machine: applies committed Raft entries to LevelDB and serves reads, watch
 * history and snapshots. The applied index, its term and the membership are written in the same
 * batch as the data they describe, so after a restart exactly the entries after appliedIndex()
 * must be applied again.
 */
export class KvStore {
  private db: Db;
  private applied = 0;
  private term = 0;
  private rev = 0;
  private historyFirst = 1;
  private pruning: Promise<void> | null = null;
  /** Every history record ending before this revision is deleted (0: not known since opening). */
  private historyDeletedBefore = 0;
  private membership: Membership = emptyMembership();
  private readonly listeners = new Set<AppliedListener>();
  private readonly recent = new RecentKeys();
  /** applyEntries and replaceWith run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly proposed = new WeakMap<Uint8Array, Command>();
  /** The LevelDB write of a batch whose results are already out, while it runs. */
  private unwritten: Promise<void> | null = null;
  private readonly options: Required<KvStoreOptions>;

  private constructor(
    private readonly dir: string,
    db: Db,
    options: KvStoreOptions,
  ) {
    this.db = db;
    this.options = {
      historyRevisions: options.historyRevisions ?? DEFAULT_HISTORY_REVISIONS,
      sync: options.sync ?? false,
      snapshotChunkBytes: options.snapshotChunkBytes ?? 256 << 10,
    };
    this.loadMeta();
  }

  static async open(dir: string, options: KvStoreOptions = {}): Promise<KvStore> {
    await recoverInterruptedReplace(dir);
    return new KvStore(dir, await openDb(dir), options);
  }

  /**
   * Writes a snapshot stream into `stagingDir` (which must not be the store's directory) and
   * verifies it. Then call replaceWith(stagingDir) on the running store.
   */
  static installSnapshot(stagingDir: string, chunks: AsyncIterable<Uint8Array>): Promise<KvSnapshotMeta> {
    return installSnapshotStream(stagingDir, chunks);
  }

  async close(): Promise<void> {
    await this.enqueue(async () => {
      await this.historyPruned();
      await this.db.close();
    });
  }

  appliedIndex(): number {
    return this.applied;
  }

  appliedTerm(): number {
    return this.term;
  }

  revision(): number {
    return this.rev;
  }

  /** The first revision the watch history still holds. */
  firstHistoryRevision(): number {
    return this.historyFirst;
  }

  conf(): Membership {
    return this.membership;
  }

  snapshotMeta(): KvSnapshotMeta {
    return {
      index: this.applied,
      term: this.term,
      conf: this.membership.conf,
      contexts: this.membership.contexts,
      revision: this.rev,
    };
  }

  /**
   * Encodes a command for this node to propose, remembering it by its bytes so that applying the
   * entry here (as leader) skips decoding it again. Entries read back from disk are decoded.
   */
  encodeProposal(cmd: Command): Uint8Array {
    const data = encodeCommand(cmd);
    this.proposed.set(data, cmd);
    return data;
  }

  /**
   * Applies committed entries in one LevelDB batch. Entries at or below appliedIndex() are skipped.
   * `onResults` hears the results as soon as they are known, before the batch is written: the
   * entries are committed, so their outcome is settled, and the node can answer its clients
   * while LevelDB writes. Reads wait for such a write (see writesSettled).
   */
  applyEntries(entries: Entry[], onResults?: (results: ApplyResult[]) => void): Promise<ApplyResult[]> {
    return this.enqueue(() => this.applyBatch(entries, onResults));
  }

  /**
   * Resolves once every batch whose results were handed out is in LevelDB (null when none is
   * being written). A read that waits for it sees every write this node has answered.
   */
  writesSettled(): Promise<void> | null {
    return this.unwritten;
  }

  /** Reads one key as of now; a key past its expiry reads as absent. */
  get(key: Uint8Array, nowMs: number): GetResponse {
    const snapshot = this.db.snapshot();
    try {
      const revision = readMetaNumber(this.db.getSync(META_REVISION, { snapshot }), 0);
      return readGet(new DbSource(this.db, snapshot), key, nowMs, revision);
    } finally {
      void snapshot.close();
    }
  }

  async range(query: RangeQuery, nowMs: number): Promise<RangeResponse> {
    const snapshot = this.db.snapshot();
    try {
      const revision = readMetaNumber(this.db.getSync(META_REVISION, { snapshot }), 0);
      return await readRange(new DbSource(this.db, snapshot), query, nowMs, revision);
    } finally {
      await snapshot.close();
    }
  }

  /** Keys whose expiry is <= nowMs, for the leader to propose in an Expire command. */
  expiredKeys(nowMs: number, limit: number): Promise<ExpiredKey[]> {
    return readExpiredKeys(this.db, nowMs, limit);
  }

  /** Watch history from startRevision on [key, rangeEnd); limit 0 = no limit; prev_kv only when `prevKv`. */
  eventsSince(startRevision: number, key: Uint8Array, rangeEnd: Uint8Array, limit = 0, prevKv = true): Promise<HistoryPage> {
    return readHistory(this.db, startRevision, key, rangeEnd, limit, prevKv);
  }

  /** Calls `listener` after every applied batch. It must not block; returns an unsubscribe. */
  subscribe(listener: AppliedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A consistent snapshot of the whole store as a framed, checksummed byte stream. */
  createSnapshotStream(): AsyncIterable<Uint8Array> {
    return snapshotStream(this.db, this.options.snapshotChunkBytes);
  }

  /**
   * Swaps in a database written by installSnapshot: closes the current one, moves the staged
   * directory into place, reopens. Waits for applies in progress; reads fail while it runs.
   */
  replaceWith(stagedDir: string): Promise<void> {
    return this.enqueue(async () => {
      await this.historyPruned();
      await this.db.close();
      const old = replacedDir(this.dir);
      await rm(old, { recursive: true, force: true });
      await rename(this.dir, old);
      await rename(stagedDir, this.dir);
      await rm(old, { recursive: true, force: true });
      this.db = await openDb(this.dir);
      this.historyDeletedBefore = 0;
      this.recent.clear();
      this.loadMeta();
      this.notify({ events: [], revision: this.rev, appliedIndex: this.applied, replaced: true });
    });
  }

  /**
   * Makes everything applied so far durable (one fsynced LevelDB write after the applies already
   * queued). Call before discarding Raft log entries up to appliedIndex().
   */
  sync(): Promise<void> {
    return this.enqueue(() =>
      this.db.batch([{ type: "put", key: META_APPLIED, value: concatBytes(u64Bytes(this.applied), u64Bytes(this.term)) }], {
        sync: true,
      }),
    );
  }

  async dbSizeBytes(): Promise<number> {
    return this.db.approximateSize(new Uint8Array([0]), new Uint8Array([0xff]));
  }

  /**
   * Deletes the history before historyFirst in the background (readers already ignore it: the
   * first revision is stored). One range delete at a time; a later target waits for the one running.
   */
  private pruneHistory(): void {
    if (this.pruning) return;
    const db = this.db;
    const run = async (): Promise<void> => {
      while (this.historyDeletedBefore < this.historyFirst && this.db === db) {
        const target = this.historyFirst;
        await deleteHistoryBefore(db, this.historyDeletedBefore, target);
        this.historyDeletedBefore = target;
      }
    };
    this.pruning = run()
      .catch(() => {
        // The records stay behind the stored first revision; the next prune deletes them.
      })
      .finally(() => (this.pruning = null));
  }

  /** Resolves when no history deletion is running (tests; close and replaceWith wait for it). */
  async historyPruned(): Promise<void> {
    while (this.pruning) await this.pruning;
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private loadMeta(): void {
    const applied = this.db.getSync(META_APPLIED);
    this.applied = applied ? readU64(viewOf(applied), 0) : 0;
    this.term = applied ? readU64(viewOf(applied), 8) : 0;
    this.rev = readMetaNumber(this.db.getSync(META_REVISION), 0);
    this.historyFirst = readMetaNumber(this.db.getSync(META_HISTORY_FIRST), 1);
    const membership = this.db.getSync(META_MEMBERSHIP);
    this.membership = membership ? decodeMembership(membership) : emptyMembership();
  }

  private async applyBatch(entries: Entry[], onResults?: (results: ApplyResult[]) => void): Promise<ApplyResult[]> {
    const batch = new ApplyBatch(this.db, this.rev, this.recent);
    const results: ApplyResult[] = [];
    let applied = this.applied;
    let term = this.term;
    let membership = this.membership;
    for (const entry of entries) {
      if (entry.index <= applied) continue;
      if (entry.index !== applied + 1) {
        throw new Error(`applyEntries: entry ${entry.index} does not follow applied index ${applied}`);
      }
      const pending = this.applyEntry(batch, entry, membership);
      const outcome = pending instanceof Promise ? await pending : pending;
      if (outcome.kind === "confChange") membership = outcome.membership;
      // Every outcome is a fresh object: it becomes the result as it is.
      (outcome as ApplyResult).index = entry.index;
      results.push(outcome as ApplyResult);
      applied = entry.index;
      term = entry.term;
    }
    if (results.length === 0) return results;

    const ops = batch.ops;
    ops.push({ type: "put", key: META_APPLIED, value: concatBytes(u64Bytes(applied), u64Bytes(term)) });
    if (batch.revision !== this.rev) ops.push({ type: "put", key: META_REVISION, value: u64Bytes(batch.revision) });
    if (membership !== this.membership) ops.push({ type: "put", key: META_MEMBERSHIP, value: encodeMembership(membership) });
    appendHistoryRecords(ops, batch.changes);
    const newFirst = nextHistoryFirst(this.historyFirst, batch.revision, this.options.historyRevisions);
    if (newFirst !== null) ops.push({ type: "put", key: META_HISTORY_FIRST, value: u64Bytes(newFirst) });
    const write = this.db.batch(ops, { sync: this.options.sync });
    if (onResults) {
      // Readers waiting on it resume after this method has taken the batch in (below).
      this.unwritten = write.then(
        () => undefined,
        () => undefined,
      );
      onResults(results);
    }
    try {
      await write;
    } finally {
      this.unwritten = null;
    }
    this.recent.remember(batch.writes());

    this.applied = applied;
    this.term = term;
    this.rev = batch.revision;
    this.membership = membership;
    if (newFirst !== null) {
      this.historyFirst = newFirst;
      this.pruneHistory();
    }
    if (this.listeners.size > 0) this.notify(lazyEvents(batch.changes, batch.revision, applied));
    return results;
  }

  private applyEntry(batch: ApplyBatch, entry: Entry, membership: Membership): ApplyOutcome | Promise<ApplyOutcome> {
    if (entry.type === EntryType.ConfChange) {
      try {
        return { kind: "confChange", membership: applyConfChangeEntry(membership, entry.data), revision: batch.revision };
      } catch (err) {
        return invalid(err, batch.revision);
      }
    }
    if (entry.data.length === 0) return { kind: "noop", revision: batch.revision };
    let command: Command;
    try {
      const proposed = this.proposed.get(entry.data);
      // Dropped once applied: the entry's bytes stay in the log cache for seconds, and the
      // command (with the request it holds) would stay alive with them.
      if (proposed) this.proposed.delete(entry.data);
      command = proposed ?? decodeCommand(entry.data);
    } catch (err) {
      return invalid(err, batch.revision);
    }
    return applyCommand(batch, command);
  }

  private notify(batch: AppliedBatch): void {
    for (const listener of this.listeners) {
      try {
        listener(batch);
      } catch {
        // A failing listener must not fail the apply of a batch that is already durable.
      }
    }
  }
}

function invalid(err: unknown, revision: number): ApplyOutcome {
  return { kind: "invalid", error: String(err), revision };
}

function lazyEvents(changes: readonly Change[], revision: number, appliedIndex: number): AppliedBatch {
  let events: Event[] | null = null;
  return {
    revision,
    appliedIndex,
    get events() {
      events ??= changes.map(toEvent);
      return events;
    },
  };
}

function replacedDir(dir: string): string {
  return `${dir}.replaced`;
}

/** A crash between the two renames of replaceWith leaves only the old directory, moved aside. */
async function recoverInterruptedReplace(dir: string): Promise<void> {
  const old = replacedDir(dir);
  if (!existsSync(old)) return;
  if (existsSync(dir)) await rm(old, { recursive: true, force: true });
  else await rename(old, dir);
}
