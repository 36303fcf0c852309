import { afterAll, expect, test } from "bun:test";
import { EventType } from "../../src/gen/rbkv/v1/kv_pb";
import { Harness, cleanupDirs, dec, enc } from "./helpers";

afterAll(cleanupDirs);

test("reads treat a key past its expiry as absent before the Expire entry", async () => {
  const h = await Harness.create();
  await h.put("t", "v", { ttlMs: 500, nowMs: 1000 });
  await h.put("forever", "v", { nowMs: 1000 });
  expect(h.store.get(enc("t"), 1499).kv?.expiresAt).toBeDefined();
  expect(h.value("t", 1499)).toBe("v");
  expect(h.value("t", 1500)).toBeUndefined();
  const all = await h.store.range({ key: enc("a"), rangeEnd: Uint8Array.of(0) }, 2000);
  expect(all.kvs.map((kv) => dec(kv.key))).toEqual(["forever"]);
  expect(all.count).toBe(1n);
});

test("expiredKeys lists keys past expiry, oldest first, up to limit", async () => {
  const h = await Harness.create();
  await h.put("late", "v", { ttlMs: 3000, nowMs: 1000 });
  await h.put("early", "v", { ttlMs: 1000, nowMs: 1000 });
  await h.put("mid", "v", { ttlMs: 2000, nowMs: 1000 });
  await h.put("none", "v", { nowMs: 1000 });
  expect(await h.store.expiredKeys(1999, 10)).toEqual([]);
  expect((await h.store.expiredKeys(3000, 10)).map((k) => dec(k.key))).toEqual(["early", "mid"]);
  expect((await h.store.expiredKeys(10_000, 2)).map((k) => dec(k.key))).toEqual(["early", "mid"]);
  const [early] = await h.store.expiredKeys(2000, 1);
  expect(early).toEqual({ key: enc("early"), modRevision: 2, expiresAtMs: 2000 });
  // Rewriting without a TTL removes the key from the expiry index.
  await h.put("early", "v2", { nowMs: 1500 });
  expect((await h.store.expiredKeys(10_000, 10)).map((k) => dec(k.key))).toEqual(["mid", "late"]);
});

test("Expire deletes only keys unchanged since, with EXPIRE events", async () => {
  const h = await Harness.create();
  await h.put("a", "1", { ttlMs: 100, nowMs: 1000 });
  await h.put("b", "1", { ttlMs: 100, nowMs: 1000 });
  const expired = await h.store.expiredKeys(1200, 10);
  expect(expired).toHaveLength(2);
  await h.put("b", "2", { ttlMs: 5000, nowMs: 1050 }); // renewed before the Expire applies
  const events: EventType[] = [];
  h.store.subscribe((batch) => events.push(...batch.events.map((e) => e.type)));
  const r = await h.expire(expired, 1200);
  expect(r.deleted).toBe(1);
  expect(r.revision).toBe(4);
  expect(events).toEqual([EventType.EXPIRE]);
  expect(h.value("a", 0)).toBeUndefined();
  expect(h.value("b", 1200)).toBe("2");
  expect(await h.store.expiredKeys(1200, 10)).toEqual([]);
  const page = await h.store.eventsSince(4, enc("a"), new Uint8Array(0));
  expect(page.events[0].type).toBe(EventType.EXPIRE);
  expect(dec(page.events[0].prevKv?.value)).toBe("1");
  // Applying the same Expire again changes nothing.
  expect((await h.expire(expired, 1300)).deleted).toBe(0);
  expect(h.store.revision()).toBe(4);
});

test("writes judge expiry by the command's leader time", async () => {
  const h = await Harness.create();
  await h.put("lock", "owner1", { ttlMs: 100, nowMs: 1000 });
  // After expiry (by the leader's clock in the command), create-if-absent succeeds and the key
  // starts a new life.
  const p = await h.put("lock", "owner2", { nowMs: 2000, prevKv: true });
  expect(p.prevKv).toBeUndefined();
  const kv = h.store.get(enc("lock"), 2000).kv!;
  expect([kv.version, kv.createRevision]).toEqual([1n, 2n]);
  const page = await h.store.eventsSince(2, enc("lock"), new Uint8Array(0));
  expect(page.events.map((e) => e.type)).toEqual([EventType.EXPIRE, EventType.PUT]);
  // Deleting an expired key deletes nothing visible.
  await h.put("t", "v", { ttlMs: 100, nowMs: 1000 });
  expect((await h.del("t", "", false, 5000)).deleted).toBe(0n);
});
