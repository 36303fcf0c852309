import type { Entry } from "../raft/types";

/**
 * Committed entries waiting for the state machine, handed out in batches of at most `maxEntries`
 * entries and about `maxBytes` of entry data (a single larger entry goes alone), so that a
 * backlog of large entries (bulk loads through big transactions) does not become one huge
 * LevelDB batch.
 */
export class ApplyQueue {
  private entries: Entry[] = [];
  /** Entry data bytes waiting. */
  bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.entries.length;
  }

  push(entries: readonly Entry[]): void {
    for (const e of entries) {
      this.entries.push(e);
      this.bytes += e.data.length;
    }
  }

  /** The next batch, in order; empty when nothing waits. */
  take(): Entry[] {
    const all = this.entries;
    const limit = Math.min(all.length, this.maxEntries);
    let n = 0;
    let bytes = 0;
    while (n < limit && (n === 0 || bytes + all[n].data.length <= this.maxBytes)) bytes += all[n++].data.length;
    this.bytes -= bytes;
    if (n === all.length) {
      this.entries = [];
      return all;
    }
    this.entries = all.slice(n);
    return all.slice(0, n);
  }
}
