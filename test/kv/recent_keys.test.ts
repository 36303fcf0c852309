import { expect, test } from "bun:test";
import { mapKey } from "../../src/kv/bytes";
import { RecentKeys } from "../../src/kv/recent_keys";
import type { StoredKv } from "../../src/kv/record";

const enc = (s: string) => new TextEncoder().encode(s);
const kv = (value: Uint8Array, rev = 1): StoredKv => ({ value, createRevision: 1, modRevision: rev, version: rev, expiresAtMs: 0 });

test("remembers the last write of each key, deletions as null, and forgets past its bounds", () => {
  const r = new RecentKeys(3, 1000, 100);
  r.remember([{ key: enc("a"), kv: kv(enc("1")) }, { key: enc("b"), kv: null }]);
  expect(r.get(mapKey(enc("a")))?.value).toEqual(enc("1"));
  expect(r.get(mapKey(enc("b")))).toBeNull();
  expect(r.get(mapKey(enc("c")))).toBeUndefined();
  r.remember([{ key: enc("c"), kv: kv(enc("3")) }, { key: enc("d"), kv: kv(enc("4")) }]);
  expect(r.get(mapKey(enc("a")))).toBeUndefined(); // the oldest went first
  r.remember([{ key: enc("big"), kv: kv(new Uint8Array(101)) }]);
  expect(r.get(mapKey(enc("big")))).toBeUndefined(); // too large to keep
  r.clear();
  expect(r.get(mapKey(enc("d")))).toBeUndefined();
});

test("keeps a copy of the value, not a view into a larger buffer", () => {
  const frame = new Uint8Array(1 << 20);
  const value = frame.subarray(10, 20);
  const r = new RecentKeys();
  r.remember([{ key: enc("k"), kv: kv(value) }]);
  const kept = r.get(mapKey(enc("k")));
  expect(kept?.value.buffer.byteLength).toBe(10);
});
