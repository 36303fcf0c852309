import { expect, test } from "bun:test";
import { EntryType, type Entry } from "../../src/raft/types";
import { TailCache } from "../../src/storage/tail_cache";

const entry = (index: number, bytes = 10): Entry => ({ index, term: 1, type: EntryType.Normal, data: new Uint8Array(bytes) });

test("keeps the newest entries within its byte budget", () => {
  const c = new TailCache(100);
  c.append([1, 2, 3, 4, 5].map((i) => entry(i, 30)));
  expect(c.first()).toBe(3);
  expect(c.get(2)).toBeUndefined();
  expect(c.get(5)?.index).toBe(5);
  c.dropThrough(4);
  expect(c.first()).toBe(5);
  expect(c.get(4)).toBeUndefined();
  c.truncateFrom(5);
  expect(c.first()).toBe(Infinity);
});

test("a run that does not continue the cached one replaces it", () => {
  const c = new TailCache(1000);
  c.append([entry(1), entry(2)]);
  c.append([entry(7)]);
  expect(c.first()).toBe(7);
  expect(c.get(1)).toBeUndefined();
});

test("entries that left the cache are not kept alive by it", () => {
  const c = new TailCache(1 << 20);
  const refs: WeakRef<Uint8Array>[] = [];
  for (let i = 1; i <= 200; i++) {
    const e = entry(i, 64 << 10);
    refs.push(new WeakRef(e.data));
    c.append([e]);
  }
  Bun.gc(true);
  // 1 MiB of 64 KiB entries: the last 16 stay; the first 184 must be collectable.
  const alive = refs.filter((r) => r.deref() !== undefined).length;
  expect(alive).toBeLessThanOrEqual(17);
});
