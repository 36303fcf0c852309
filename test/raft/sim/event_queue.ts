// Timed events of the simulation, in a binary heap ordered by (time, random tie-break): events due
// at the same tick come out in a seed-determined random order, which reorders deliveries.

interface Queued<T> {
  time: number;
  tie: number;
  seq: number;
  item: T;
}

export class EventQueue<T> {
  private heap: Queued<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(time: number, tie: number, item: T): void {
    const h = this.heap;
    h.push({ time, tie, seq: this.seq++, item });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  /** Removes and returns the earliest event due at or before `now`, if any. */
  popDue(now: number): T | undefined {
    const h = this.heap;
    if (h.length === 0 || h[0].time > now) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top.item;
  }
}

function before<T>(a: Queued<T>, b: Queued<T>): boolean {
  if (a.time !== b.time) return a.time < b.time;
  if (a.tie !== b.tie) return a.tie < b.tie;
  return a.seq < b.seq;
}
