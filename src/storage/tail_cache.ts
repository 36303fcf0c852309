// The most recently appended entries, kept in memory up to a byte budget: followers that keep up
// are fed from here without touching the disk.

import type { Entry } from "../raft/types";

export class TailCache {
  /** Slots before `head` are emptied (null) as they leave, so their data is not kept alive. */
  private items: (Entry | null)[] = [];
  private head = 0;
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** Index of the first cached entry, or Infinity when empty. */
  first(): number {
    return this.head < this.items.length ? this.items[this.head]!.index : Infinity;
  }

  get(index: number): Entry | undefined {
    const i = this.head + index - this.first();
    return i >= this.head && i < this.items.length ? (this.items[i] ?? undefined) : undefined;
  }

  /** Appends a run of entries; one that does not continue the cached run replaces it. */
  append(entries: Entry[]): void {
    if (this.maxBytes <= 0 || entries.length === 0) return;
    const tail = this.items.length > this.head ? this.items[this.items.length - 1]!.index : -1;
    if (tail >= 0 && tail + 1 !== entries[0].index) this.clear();
    for (const e of entries) {
      this.items.push(e);
      this.bytes += e.data.length;
    }
    while (this.head < this.items.length && this.bytes > this.maxBytes) this.dropHead();
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  truncateFrom(index: number): void {
    while (this.items.length > this.head && this.items[this.items.length - 1]!.index >= index) {
      this.bytes -= this.items.pop()!.data.length;
    }
  }

  dropThrough(index: number): void {
    while (this.head < this.items.length && this.items[this.head]!.index <= index) this.dropHead();
  }

  private dropHead(): void {
    this.bytes -= this.items[this.head]!.data.length;
    this.items[this.head++] = null;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.bytes = 0;
  }
}
