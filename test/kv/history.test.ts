import { afterAll, expect, test } from "bun:test";
import { EventType } from "../../src/gen/rbkv/v1/kv_pb";
import { create } from "@bufbuild/protobuf";
import { DeleteRequestSchema, PutRequestSchema } from "../../src/gen/rbkv/v1/kv_pb";
import { deleteCommand, putCommand } from "../../src/kv/commands";
import { pruneStep } from "../../src/kv/history";
import { Harness, cleanupDirs, dec, enc } from "./helpers";

const putOf = (key: string, value: string) => putCommand(create(PutRequestSchema, { key: enc(key), value: enc(value), prevKv: false }), 1000);

function historyKeyCount(h: Harness): Promise<number> {
  return (async () => {
    let n = 0;
    for await (const _ of h.db().keys({ gte: Uint8Array.of(0x68), lt: Uint8Array.of(0x69) })) n++;
    return n;
  })();
}

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
  // The pruned records are really gone from LevelDB (deleted in the background).
  await h.store.historyPruned();
  expect(await historyKeyCount(h)).toBe(10);
});

test("one applied batch is one history record; reads from inside it start at the asked revision", async () => {
  const h = await Harness.create();
  await h.put("w/0", "0"); // 1
  const cmds = [putOf("w/1", "a"), putOf("x", "a"), putOf("w/2", "a"), putOf("w/1", "b"), deleteCommand(create(DeleteRequestSchema, { key: enc("w/2") }), 1000)];
  await h.apply(...cmds); // revisions 2..6 in one batch
  expect(await historyKeyCount(h)).toBe(2);

  const fromMiddle = await h.store.eventsSince(4, enc("w/"), enc("w0"));
  expect(fromMiddle.events.map((e) => [dec(e.kv?.key), Number(e.kv?.modRevision)])).toEqual([
    ["w/2", 4],
    ["w/1", 5],
    ["w/2", 6],
  ]);
  expect(dec(fromMiddle.events[1].prevKv?.value)).toBe("a");
  expect(fromMiddle.nextRevision).toBe(7);

  // Pages inside one record: each page ends at a revision boundary and the next starts after it.
  const seen: number[] = [];
  let next = 1;
  for (let pages = 0; pages < 10; pages++) {
    const page = await h.store.eventsSince(next, new Uint8Array(0), Uint8Array.of(0), 2);
    if (page.events.length === 0) break;
    seen.push(...page.events.map((e) => Number(e.kv?.modRevision)));
    expect(page.nextRevision).toBe(Number(page.events.at(-1)!.kv!.modRevision) + 1);
    next = page.nextRevision;
  }
  expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
});

test("a page never splits a revision, even when its events fill the limit midway", async () => {
  const h = await Harness.create();
  await h.put("a", "1"); // 1
  await h.put("b", "1"); // 2
  await h.del("", "\0"); // 3 deletes a and b: two events at one revision
  await h.put("c", "1"); // 4
  const page = await h.store.eventsSince(2, new Uint8Array(0), Uint8Array.of(0), 2);
  expect(page.events.map((e) => [dec(e.kv?.key), Number(e.kv?.modRevision)])).toEqual([
    ["b", 2],
    ["a", 3],
    ["b", 3],
  ]);
  expect(page.nextRevision).toBe(4);
});

test("large batches are split into records at revision boundaries; pruning moves in steps", async () => {
  const keep = 200;
  const h = await Harness.create({ historyRevisions: keep });
  const big = "v".repeat(4096);
  await h.apply(...Array.from({ length: 100 }, (_, i) => putOf(`k${i}`, big))); // ~400 KiB in one batch
  const records = await historyKeyCount(h);
  expect(records).toBeGreaterThan(1);
  expect(records).toBeLessThan(100);
  const all = await h.store.eventsSince(1, new Uint8Array(0), Uint8Array.of(0));
  expect(all.events.map((e) => Number(e.kv?.modRevision))).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));

  for (let i = 0; i < 300; i++) await h.put(`p${i % 7}`, String(i));
  const current = h.store.revision();
  const first = h.store.firstHistoryRevision();
  // At least `keep` revisions are kept, and less than one prune step more.
  expect(current - first + 1).toBeGreaterThanOrEqual(keep);
  expect(current - first + 1).toBeLessThan(keep + pruneStep(keep));
  const kept = await h.store.eventsSince(first, new Uint8Array(0), Uint8Array.of(0));
  expect(kept.events.map((e) => Number(e.kv?.modRevision))).toEqual(Array.from({ length: current - first + 1 }, (_, i) => first + i));
  expect((await h.store.eventsSince(first - 1, new Uint8Array(0), Uint8Array.of(0))).compactRevision).toBe(first);
  await h.store.historyPruned();
  // Only records that still hold retained revisions are left: the one straddling `first`, if any, and later ones.
  expect(await historyKeyCount(h)).toBeLessThanOrEqual(current - first + 1 + 1);
});

test("each prune deletes from where the last one ended, not from the start of the history again", async () => {
  const h = await Harness.create({ historyRevisions: 16 });
  const db = h.db() as unknown as { clear(o: { gte: Uint8Array; lt: Uint8Array }): Promise<void> };
  const ranges: { gte: Uint8Array; lt: Uint8Array }[] = [];
  const clear = db.clear.bind(db);
  db.clear = (o) => {
    ranges.push(o);
    return clear(o);
  };
  for (let i = 0; i < 80; i++) {
    await h.put(`k${i % 5}`, String(i));
    await h.store.historyPruned();
  }
  expect(ranges.length).toBeGreaterThan(3);
  expect(ranges[0].gte).toEqual(Uint8Array.of(0x68)); // the first prune after opening: from the start
  for (let i = 1; i < ranges.length; i++) expect(ranges[i].gte).toEqual(ranges[i - 1].lt);
  expect(await historyKeyCount(h)).toBe(h.store.revision() - h.store.firstHistoryRevision() + 1);
});
