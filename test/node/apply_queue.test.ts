import { describe, expect, test } from "bun:test";
import { ApplyQueue } from "../../src/node/apply_queue";
import { EntryType, type Entry } from "../../src/raft/types";

const entry = (index: number, bytes: number): Entry => ({ index, term: 1, type: EntryType.Normal, data: new Uint8Array(bytes) });
const indexes = (es: Entry[]) => es.map((e) => e.index);

describe("ApplyQueue", () => {
  test("hands out everything waiting as one batch when it fits", () => {
    const q = new ApplyQueue(10, 1000);
    q.push([entry(1, 100), entry(2, 100)]);
    q.push([entry(3, 100)]);
    expect(q.bytes).toBe(300);
    expect(indexes(q.take())).toEqual([1, 2, 3]);
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
    expect(q.take()).toEqual([]);
  });

  test("splits by entry count, in order", () => {
    const q = new ApplyQueue(2, 1 << 20);
    q.push([1, 2, 3, 4, 5].map((i) => entry(i, 10)));
    expect([indexes(q.take()), indexes(q.take()), indexes(q.take())]).toEqual([[1, 2], [3, 4], [5]]);
  });

  test("splits by bytes; an entry larger than the limit goes alone", () => {
    const q = new ApplyQueue(100, 250);
    q.push([entry(1, 100), entry(2, 100), entry(3, 100), entry(4, 900), entry(5, 10)]);
    expect(indexes(q.take())).toEqual([1, 2]);
    expect(q.bytes).toBe(1010);
    expect(indexes(q.take())).toEqual([3]);
    expect(indexes(q.take())).toEqual([4]);
    expect(indexes(q.take())).toEqual([5]);
    expect(q.bytes).toBe(0);
  });
});
