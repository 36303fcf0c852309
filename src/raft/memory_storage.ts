import type { Entry, HardState, LogStorage, SnapshotMeta } from "./types";

/**
 * LogStorage held in memory: what the simulation treats as durable, and what unit tests use.
 * Writes are the runtime's job (after a Ready), never the core's.
 */
export class MemoryStorage implements LogStorage {
  private hard: HardState;
  private snap: SnapshotMeta;
  /** entries[i] has index snap.index + 1 + i */
  private log: Entry[] = [];

  constructor(snapshot: SnapshotMeta, hardState: HardState = { term: 0, vote: "", commit: 0 }) {
    this.snap = cloneMeta(snapshot);
    this.hard = { ...hardState };
  }

  initialState(): { hardState: HardState; snapshot: SnapshotMeta } {
    return { hardState: { ...this.hard }, snapshot: cloneMeta(this.snap) };
  }

  hardState(): HardState {
    return { ...this.hard };
  }

  firstIndex(): number {
    return this.snap.index + 1;
  }

  lastIndex(): number {
    return this.snap.index + this.log.length;
  }

  term(index: number): number {
    if (index === this.snap.index) return this.snap.term;
    const e = this.log[index - this.snap.index - 1];
    if (!e) throw new Error(`term(${index}) outside ${this.snap.index}..${this.lastIndex()}`);
    return e.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo <= this.snap.index || hi > this.lastIndex() + 1) {
      throw new Error(`entries(${lo}, ${hi}) outside ${this.firstIndex()}..${this.lastIndex()}`);
    }
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.log[i - this.snap.index - 1];
      bytes += e.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  snapshot(): SnapshotMeta {
    return cloneMeta(this.snap);
  }

  setHardState(hs: HardState): void {
    this.hard = { ...hs };
  }

  /** Appends entries, first dropping any stored entry at or after entries[0].index. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0].index;
    if (first <= this.snap.index) throw new Error(`append at ${first} below compaction point ${this.snap.index}`);
    if (first > this.lastIndex() + 1) throw new Error(`append at ${first} leaves a gap after ${this.lastIndex()}`);
    this.log.length = first - this.snap.index - 1;
    for (const e of entries) this.log.push(e);
  }

  /** Replaces the whole log with a received snapshot. */
  applySnapshot(meta: SnapshotMeta): void {
    this.snap = cloneMeta(meta);
    this.log = [];
  }

  /** Drops entries up to meta.index, which must be in the log. */
  compact(meta: SnapshotMeta): void {
    if (meta.index <= this.snap.index) return;
    if (meta.index > this.lastIndex()) throw new Error(`compact(${meta.index}) past last index ${this.lastIndex()}`);
    this.log = this.log.slice(meta.index - this.snap.index);
    this.snap = cloneMeta(meta);
  }
}

export function cloneMeta(m: SnapshotMeta): SnapshotMeta {
  return { index: m.index, term: m.term, conf: { voters: [...m.conf.voters], learners: [...m.conf.learners] } };
}
