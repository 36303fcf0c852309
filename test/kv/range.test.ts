import { afterAll, expect, test } from "bun:test";
import { Harness, cleanupDirs, dec, enc } from "./helpers";
import { prefixEnd } from "../../src/kv/range";

afterAll(cleanupDirs);

async function seeded() {
  const h = await Harness.create();
  for (const k of ["a", "b", "b/1", "b/2", "c", "d"]) await h.put(k, `v-${k}`);
  return h;
}

const keysOf = (r: { kvs: { key: Uint8Array }[] }) => r.kvs.map((kv) => dec(kv.key));

test("range_end: empty = one key, \\0 = all from key, else [key, end)", async () => {
  const h = await seeded();
  expect(keysOf(await h.store.range({ key: enc("b") }, 1000))).toEqual(["b"]);
  expect(keysOf(await h.store.range({ key: enc("b"), rangeEnd: Uint8Array.of(0) }, 1000))).toEqual(["b", "b/1", "b/2", "c", "d"]);
  expect(keysOf(await h.store.range({ key: enc("b"), rangeEnd: enc("c") }, 1000))).toEqual(["b", "b/1", "b/2"]);
  expect(keysOf(await h.store.range({ key: enc("b/"), rangeEnd: prefixEnd(enc("b/")) }, 1000))).toEqual(["b/1", "b/2"]);
  expect(keysOf(await h.store.range({ key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0) }, 1000))).toHaveLength(6);
  expect(keysOf(await h.store.range({ key: enc("zz") }, 1000))).toEqual([]);
});

test("limit, more, count, keys_only, count_only", async () => {
  const h = await seeded();
  const all = { key: enc("a"), rangeEnd: Uint8Array.of(0) };
  const limited = await h.store.range({ ...all, limit: 2 }, 1000);
  expect(keysOf(limited)).toEqual(["a", "b"]);
  expect(limited.more).toBe(true);
  expect(limited.count).toBe(6n);
  expect(limited.header?.revision).toBe(6n);

  const exact = await h.store.range({ ...all, limit: 6 }, 1000);
  expect(exact.more).toBe(false);

  const keysOnly = await h.store.range({ ...all, keysOnly: true }, 1000);
  expect(keysOnly.kvs.every((kv) => kv.value.length === 0)).toBe(true);
  expect(keysOnly.kvs[0].modRevision).toBe(1n);

  const countOnly = await h.store.range({ ...all, countOnly: true }, 1000);
  expect(countOnly.kvs).toHaveLength(0);
  expect(countOnly.count).toBe(6n);
  expect(countOnly.more).toBe(false);
});

test("delete of a range returns prev_kvs and one shared revision", async () => {
  const h = await seeded();
  const d = await h.del("b", "c", true);
  expect(d.deleted).toBe(3n);
  expect(d.prevKvs.map((kv) => dec(kv.key))).toEqual(["b", "b/1", "b/2"]);
  expect(d.prevKvs.map((kv) => dec(kv.value))).toEqual(["v-b", "v-b/1", "v-b/2"]);
  expect(d.header?.revision).toBe(7n);
  expect(keysOf(await h.store.range({ key: enc("a"), rangeEnd: Uint8Array.of(0) }, 1000))).toEqual(["a", "c", "d"]);
  const page = await h.store.eventsSince(7, enc("a"), Uint8Array.of(0));
  expect(page.events).toHaveLength(3);
  expect(page.events.every((e) => e.kv?.modRevision === 7n)).toBe(true);
});

test("writes in one batch see each other", async () => {
  const h = await Harness.create();
  const { putCommand, deleteCommand } = await import("../../src/kv/commands");
  const { create } = await import("@bufbuild/protobuf");
  const { PutRequestSchema, DeleteRequestSchema } = await import("../../src/gen/rbkv/v1/kv_pb");
  const put = (k: string, v: string) => putCommand(create(PutRequestSchema, { key: enc(k), value: enc(v) }), 1000);
  const results = await h.apply(
    put("x/1", "a"),
    put("x/2", "b"),
    put("x/1", "c"),
    deleteCommand(create(DeleteRequestSchema, { key: enc("x/"), rangeEnd: enc("x0"), prevKv: true }), 1000),
  );
  const last = results[3];
  if (last.kind !== "delete") throw new Error("expected delete");
  expect(last.response.prevKvs.map((kv) => [dec(kv.key), dec(kv.value), kv.version])).toEqual([
    ["x/1", "c", 2n],
    ["x/2", "b", 1n],
  ]);
  expect(h.store.revision()).toBe(4);
});
