import { invariant } from "./invariant";
import type { Entry, LogStorage, SnapshotMeta } from "./types";

/**
 * The tail of the log that is not yet durable: entries appended since the last persisted Ready,
 * and a received snapshot waiting to be installed. Indexes >= offset are read from here; the stable
 * storage may still hold older (now overwritten) entries at those indexes until the next write.
 */
class UnstableTail {
  offset: number;
  entries: Entry[] = [];
  snapshot: SnapshotMeta | null = null;
  /** Entries below this index (and the snapshot, if snapshotInProgress) are being written now. */
  offsetInProgress: number;
  snapshotInProgress = false;

  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  lastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    if (this.snapshot) return this.snapshot.index;
    return undefined;
  }

  term(index: number): number | undefined {
    if (index < this.offset) {
      if (this.snapshot && this.snapshot.index === index) return this.snapshot.term;
      return undefined;
    }
    const e = this.entries[index - this.offset];
    return e ? e.term : undefined;
  }

  truncateAndAppend(entries: Entry[]): void {
    const first = entries[0].index;
    if (first === this.offset + this.entries.length) {
      for (const e of entries) this.entries.push(e);
    } else if (first <= this.offset) {
      this.offset = first;
      this.entries = entries.slice();
      this.offsetInProgress = first;
    } else {
      this.entries = this.entries.slice(0, first - this.offset);
      for (const e of entries) this.entries.push(e);
      this.offsetInProgress = Math.min(this.offsetInProgress, first);
    }
  }

  stableTo(index: number, term: number): void {
    if (index < this.offset || this.term(index) !== term) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  restore(meta: SnapshotMeta): void {
    this.offset = meta.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = meta;
    this.snapshotInProgress = false;
  }
}

/**
 * The node's view of its log: stable storage plus the unstable tail, with the commit index and
 * how far committed entries have been handed out for applying.
 */
export class RaftLog {
  readonly storage: LogStorage;
  private readonly tail: UnstableTail;
  committed: number;
  /** Highest index handed to the runtime for applying. */
  applying: number;

  constructor(storage: LogStorage, committed: number, applied: number) {
    this.storage = storage;
    this.tail = new UnstableTail(storage.lastIndex() + 1);
    const compacted = storage.firstIndex() - 1;
    invariant(applied <= storage.lastIndex(), `applied index ${applied} is past the last log index ${storage.lastIndex()}`);
    invariant(applied >= compacted, `applied index ${applied} is below the log's compaction point ${compacted}`);
    this.applying = applied;
    this.committed = Math.max(committed, applied, compacted);
    invariant(this.committed <= storage.lastIndex(), `commit ${this.committed} past last index ${storage.lastIndex()}`);
  }

  firstIndex(): number {
    return this.tail.snapshot ? this.tail.snapshot.index + 1 : this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.tail.lastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) as number;
  }

  /** Term of the entry at index, or undefined if compacted away or not in the log. */
  term(index: number): number | undefined {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return undefined;
    const t = this.tail.term(index);
    if (t !== undefined) return t;
    if (this.tail.snapshot) return undefined;
    return this.storage.term(index);
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Entries [lo, hi), at most maxBytes of data (at least one entry). lo must be >= firstIndex. */
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    invariant(lo >= this.firstIndex() && hi <= this.lastIndex() + 1, `entries(${lo}, ${hi}) outside the log`);
    if (lo >= hi) return [];
    const out: Entry[] = [];
    let bytes = 0;
    const offset = this.tail.offset;
    if (lo < offset) {
      const stable = this.storage.entries(lo, Math.min(hi, offset), maxBytes);
      for (const e of stable) {
        bytes += e.data.length;
        out.push(e);
      }
      if (out.length < Math.min(hi, offset) - lo) return out;
    }
    for (let i = Math.max(lo, offset); i < hi; i++) {
      const e = this.tail.entries[i - offset];
      bytes += e.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** Is a candidate's log (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Leader's own append. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    invariant(entries[0].index > this.committed, `append at ${entries[0].index} would overwrite committed ${this.committed}`);
    this.tail.truncateAndAppend(entries);
  }

  /**
   * Follower's append from the leader. Returns the index of the last new entry, or null when the
   * log does not contain an entry at prevIndex with prevTerm (the consistency check failed).
   */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, entries: Entry[]): { lastNew: number; appended: Entry[] } | null {
    if (!this.matchTerm(prevIndex, prevTerm)) return null;
    const lastNew = prevIndex + entries.length;
    let conflict = -1;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (!this.matchTerm(e.index, e.term)) {
        conflict = i;
        break;
      }
    }
    let appended: Entry[] = [];
    if (conflict >= 0) {
      invariant(entries[conflict].index > this.committed, `conflict at ${entries[conflict].index} with committed entry (commit ${this.committed})`);
      appended = entries.slice(conflict);
      this.tail.truncateAndAppend(appended);
    }
    this.commitTo(Math.min(commit, lastNew));
    return { lastNew, appended };
  }

  /**
   * The largest index <= index whose term is <= term (or the compaction point): where a leader and
   * a follower may agree, used to skip a whole conflicting term per round trip.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (; i >= this.firstIndex() - 1; i--) {
      const t = this.term(i);
      if (t === undefined) break;
      if (t <= term) return { index: i, term: t };
    }
    return { index: Math.max(i, this.firstIndex() - 1), term: 0 };
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    invariant(index <= this.lastIndex(), `commit ${index} past last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** Leader's commit rule: only an entry of the current term commits by counting replicas. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  /** The highest index whose entry is durable and belongs to this log. */
  stableIndex(): number {
    return this.tail.offset - 1;
  }

  hasUnsentEntries(): boolean {
    return this.tail.offsetInProgress < this.tail.offset + this.tail.entries.length;
  }

  hasUnsentSnapshot(): boolean {
    return this.tail.snapshot !== null && !this.tail.snapshotInProgress;
  }

  /** Entries and snapshot not yet handed out for writing; marks them in progress. */
  takeUnstable(): { entries: Entry[]; snapshot: SnapshotMeta | null } {
    const t = this.tail;
    const entries = t.entries.slice(t.offsetInProgress - t.offset);
    const snapshot = t.snapshot && !t.snapshotInProgress ? t.snapshot : null;
    t.offsetInProgress = t.offset + t.entries.length;
    if (t.snapshot) t.snapshotInProgress = true;
    return { entries, snapshot };
  }

  stableTo(index: number, term: number): void {
    this.tail.stableTo(index, term);
  }

  stableSnapshotTo(index: number): void {
    if (this.tail.snapshot && this.tail.snapshot.index === index) {
      this.tail.snapshot = null;
      this.tail.snapshotInProgress = false;
    }
  }

  /** Committed, durable entries not yet handed out for applying. */
  hasCommittedToApply(): boolean {
    return Math.min(this.committed, this.stableIndex()) > this.applying;
  }

  takeCommitted(maxBytes: number): Entry[] {
    const hi = Math.min(this.committed, this.stableIndex());
    if (hi <= this.applying) return [];
    const out = this.entries(this.applying + 1, hi + 1, maxBytes);
    this.applying = out[out.length - 1].index;
    return out;
  }

  /** Replace the whole log with a snapshot received from the leader. */
  restore(meta: SnapshotMeta): void {
    this.tail.restore(meta);
    this.committed = meta.index;
    this.applying = meta.index;
  }

  currentSnapshot(): SnapshotMeta {
    return this.tail.snapshot ?? this.storage.snapshot();
  }
}
