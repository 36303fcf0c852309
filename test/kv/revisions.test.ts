import { afterAll, expect, test } from "bun:test";
import { EventType } from "../../src/gen/rbkv/v1/kv_pb";
import { Harness, cleanupDirs, dec, enc } from "./helpers";

afterAll(cleanupDirs);

test("each write gets one revision; versions count writes and restart after delete", async () => {
  const h = await Harness.create();
  expect(h.store.revision()).toBe(0);
  expect((await h.put("a", "1")).header?.revision).toBe(1n);
  expect((await h.put("b", "1")).header?.revision).toBe(2n);
  const p = await h.put("a", "2", { prevKv: true });
  expect(p.header?.revision).toBe(3n);
  expect(dec(p.prevKv?.value)).toBe("1");
  let kv = h.store.get(enc("a"), 1000).kv!;
  expect([kv.createRevision, kv.modRevision, kv.version]).toEqual([1n, 3n, 2n]);

  const d = await h.del("a");
  expect(d.deleted).toBe(1n);
  expect(d.header?.revision).toBe(4n);
  expect(h.store.get(enc("a"), 1000).kv).toBeUndefined();

  // Deleting nothing changes nothing: no new revision.
  expect((await h.del("a")).header?.revision).toBe(4n);
  expect(h.store.revision()).toBe(4);

  await h.put("a", "3");
  kv = h.store.get(enc("a"), 1000).kv!;
  expect([kv.createRevision, kv.modRevision, kv.version]).toEqual([5n, 5n, 1n]);
  expect(h.store.get(enc("a"), 1000).header?.revision).toBe(5n);
});

test("no-op entries advance only the applied index", async () => {
  const h = await Harness.create();
  const results = await h.store.applyEntries([h.entry(null), h.entry(null)]);
  expect(results.map((r) => r.kind)).toEqual(["noop", "noop"]);
  expect(h.store.appliedIndex()).toBe(2);
  expect(h.store.revision()).toBe(0);
});

test("an undecodable command is skipped deterministically", async () => {
  const h = await Harness.create();
  const [r] = await h.store.applyEntries([h.entry(null, 0, Uint8Array.of(0xff, 0xff, 0xff))]);
  expect(r.kind).toBe("invalid");
  expect(h.store.appliedIndex()).toBe(1);
});

test("subscribers hear each batch's events", async () => {
  const h = await Harness.create();
  const seen: [EventType, string, bigint][] = [];
  const unsubscribe = h.store.subscribe((b) => {
    for (const e of b.events) seen.push([e.type, dec(e.kv?.key)!, e.kv!.modRevision]);
  });
  await h.put("a", "1");
  await h.del("a");
  unsubscribe();
  await h.put("b", "1");
  expect(seen).toEqual([
    [EventType.PUT, "a", 1n],
    [EventType.DELETE, "a", 2n],
  ]);
});
