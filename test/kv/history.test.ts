import { afterAll, expect, test } from "bun:test";
import { EventType } from "../../src/gen/rbkv/v1/kv_pb";
import { Harness, cleanupDirs, dec, enc } from "./helpers";

afterAll(cleanupDirs);

test("eventsSince filters by key range, pages by limit, reports prev_kv", async () => {
  const h = await Harness.create();
  await h.put("a", "1"); // 1
  await h.put("w/1", "1"); // 2
  await h.put("w/2", "1"); // 3
  await h.put("w/1", "2"); // 4
  await h.del("w/2"); // 5
  const all = await h.store.eventsSince(1, enc("w/"), enc("w0"));
  expect(all.events.map((e) => [e.type, dec(e.kv?.key), Number(e.kv?.modRevision)])).toEqual([
    [EventType.PUT, "w/1", 2],
    [EventType.PUT, "w/2", 3],
    [EventType.PUT, "w/1", 4],
    [EventType.DELETE, "w/2", 5],
  ]);
  expect(dec(all.events[2].prevKv?.value)).toBe("1");
  expect(all.compactRevision).toBe(0);
  expect(all.nextRevision).toBe(6);

  const page = await h.store.eventsSince(1, enc("w/"), enc("w0"), 2);
  expect(page.events).toHaveLength(2);
  expect(page.nextRevision).toBe(4);
  const rest = await h.store.eventsSince(page.nextRevision, enc("w/"), enc("w0"), 2);
  expect(rest.events.map((e) => Number(e.kv?.modRevision))).toEqual([4, 5]);

  const single = await h.store.eventsSince(0, enc("a"), new Uint8Array(0));
  expect(single.events).toHaveLength(1);
  expect((await h.store.eventsSince(6, enc("a"), Uint8Array.of(0))).events).toEqual([]);
});

test("history is bounded and reports the compacted revision", async () => {
  const h = await Harness.create({ historyRevisions: 10 });
  for (let i = 0; i < 50; i++) await h.put(`k${i % 3}`, String(i));
  expect(h.store.revision()).toBe(50);
  expect(h.store.firstHistoryRevision()).toBe(41);
  const compacted = await h.store.eventsSince(5, enc("k"), Uint8Array.of(0));
  expect(compacted.compactRevision).toBe(41);
  expect(compacted.events).toEqual([]);
  const kept = await h.store.eventsSince(41, new Uint8Array(0), Uint8Array.of(0));
  expect(kept.events.map((e) => Number(e.kv?.modRevision))).toEqual(Array.from({ length: 10 }, (_, i) => 41 + i));
  // The pruned records are really gone from LevelDB.
  let historyRecords = 0;
  for await (const _ of (h.store as unknown as { db: { keys(o: object): AsyncIterable<Uint8Array> } }).db.keys({
    gte: Uint8Array.of(0x68),
    lt: Uint8Array.of(0x69),
  }))
    historyRecords++;
  expect(historyRecords).toBe(10);
});
