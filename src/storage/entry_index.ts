// Where each live entry sits on disk: term, segment, offset and record length per index, in
// typed arrays (24 bytes an entry) so memory stays small however long the log grows.

export class EntryIndex {
  private terms: Float64Array;
  private segments: Uint32Array;
  private offsets: Float64Array;
  private lengths: Uint32Array;
  /** Slot of the entry with index `firstIdx`. */
  private head = 0;
  private count = 0;
  private firstIdx: number;

  constructor(firstIndex: number, capacity = 1024) {
    this.firstIdx = firstIndex;
    this.terms = new Float64Array(capacity);
    this.segments = new Uint32Array(capacity);
    this.offsets = new Float64Array(capacity);
    this.lengths = new Uint32Array(capacity);
  }

  /** Index of the first entry held (or the index the next append must have, when empty). */
  first(): number {
    return this.firstIdx;
  }

  /** Index of the last entry held (first() - 1 when empty). */
  last(): number {
    return this.firstIdx + this.count - 1;
  }

  size(): number {
    return this.count;
  }

  has(index: number): boolean {
    return index >= this.firstIdx && index < this.firstIdx + this.count;
  }

  term(index: number): number {
    return this.terms[this.slot(index)];
  }

  segment(index: number): number {
    return this.segments[this.slot(index)];
  }

  offset(index: number): number {
    return this.offsets[this.slot(index)];
  }

  recordLength(index: number): number {
    return this.lengths[this.slot(index)];
  }

  append(index: number, term: number, segment: number, offset: number, recordLength: number): void {
    if (index !== this.firstIdx + this.count) throw new Error(`EntryIndex.append(${index}): expected index ${this.firstIdx + this.count}`);
    if (this.head + this.count === this.terms.length) this.makeRoom();
    const s = this.head + this.count;
    this.terms[s] = term;
    this.segments[s] = segment;
    this.offsets[s] = offset;
    this.lengths[s] = recordLength;
    this.count++;
  }

  /** Drops entries >= index. Below first(), everything goes and the next append is at `index`. */
  truncateFrom(index: number): void {
    if (index <= this.firstIdx) {
      this.reset(index);
    } else if (index <= this.last()) {
      this.count = index - this.firstIdx;
    }
  }

  /** Drops entries <= index. At or past last(), everything goes and the next append is at index+1. */
  dropThrough(index: number): void {
    if (index >= this.last()) {
      this.reset(index + 1);
    } else if (index >= this.firstIdx) {
      const n = index - this.firstIdx + 1;
      this.head += n;
      this.count -= n;
      this.firstIdx = index + 1;
    }
  }

  reset(firstIndex: number): void {
    this.firstIdx = firstIndex;
    this.head = 0;
    this.count = 0;
  }

  private slot(index: number): number {
    if (!this.has(index)) throw new Error(`EntryIndex: ${index} outside ${this.firstIdx}..${this.last()}`);
    return this.head + index - this.firstIdx;
  }

  private makeRoom(): void {
    const cap = this.terms.length;
    if (this.head >= cap / 2) {
      // Mostly compacted away: slide the live part to the front instead of growing.
      for (const a of [this.terms, this.segments, this.offsets, this.lengths]) a.copyWithin(0, this.head, this.head + this.count);
      this.head = 0;
      return;
    }
    const grow = <T extends Float64Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const next = make(cap * 2);
      next.set(a.subarray(this.head, this.head + this.count));
      return next;
    };
    this.terms = grow(this.terms, (n) => new Float64Array(n));
    this.segments = grow(this.segments, (n) => new Uint32Array(n));
    this.offsets = grow(this.offsets, (n) => new Float64Array(n));
    this.lengths = grow(this.lengths, (n) => new Uint32Array(n));
    this.head = 0;
  }
}
