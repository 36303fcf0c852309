import { afterAll, expect, test } from "bun:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { Command } from "../../src/gen/rbkv/raft/v1/raft_pb";
import { DeleteRequestSchema, type Event, PutRequestSchema, TxnRequestSchema, WatchResponseSchema } from "../../src/gen/rbkv/v1/kv_pb";
import { deleteCommand, expireCommand, putCommand, txnCommand } from "../../src/kv/commands";
import { HISTORY_END, HISTORY_START } from "../../src/kv/keys";
import { Harness, cleanupDirs, dec, enc, opDel, opPut } from "./helpers";

afterAll(cleanupDirs);

const ALL = [new Uint8Array(0), Uint8Array.of(0)] as const;

function random(seed: number) {
  let a = seed;
  return () => {
    a = (a * 1103515245 + 12345) & 0x7fffffff;
    return a / 0x7fffffff;
  };
}

/** Every event the store hands its live listeners (built from the apply's changes, prev_kv whole). */
function recordLive(h: Harness): Event[] {
  const live: Event[] = [];
  h.store.subscribe((batch) => live.push(...batch.events));
  return live;
}

const revisionOf = (e: Event) => Number(e.kv!.modRevision);

/**
 * Random batches of puts (some with a time to live), single and range deletes, expiries, and Txns
 * that change one key several times in one revision (put/put, put/delete/put), on a few keys.
 */
async function randomHistory(h: Harness, seed: number, batches: number): Promise<void> {
  const rnd = random(seed);
  const key = () => `k${Math.floor(rnd() * 4)}`;
  let now = 1000;
  for (let b = 0; b < batches; b++) {
    now += 100;
    const cmds: Command[] = [];
    for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) {
      const r = rnd();
      const k = key();
      if (r < 0.45) {
        const ttl = rnd() < 0.2 ? durationFromMs(150 + Math.floor(rnd() * 400)) : undefined;
        cmds.push(putCommand(create(PutRequestSchema, { key: enc(k), value: enc(`${k}@${b}.${n}`), ttl }), now));
      } else if (r < 0.6) {
        cmds.push(deleteCommand(create(DeleteRequestSchema, rnd() < 0.5 ? { key: enc(k) } : { key: enc("k"), rangeEnd: enc("k2") }), now));
      } else if (r < 0.8) {
        const ops = rnd() < 0.5 ? [opPut(k, `t1@${b}`), opPut(k, `t2@${b}`)] : [opPut(k, `t1@${b}`), opDel(k), opPut(k, `t3@${b}`)];
        cmds.push(txnCommand(create(TxnRequestSchema, { success: ops }), now));
      } else {
        const expired = await h.store.expiredKeys(now, 10);
        if (expired.length > 0) cmds.push(expireCommand(expired, now));
      }
    }
    if (cmds.length > 0) await h.apply(...cmds);
  }
}

test("replayed events carry the same prev_kv the live events did (random histories)", async () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const h = await Harness.create();
    const live = recordLive(h);
    await randomHistory(h, seed, 60);
    expect(live.length).toBeGreaterThan(100);
    const current = h.store.revision();
    for (const start of [1, 2, Math.floor(current / 3), Math.floor(current / 2), current - 1, current]) {
      const page = await h.store.eventsSince(start, ...ALL);
      try {
        expect(page.events).toEqual(live.filter((e) => revisionOf(e) >= start));
      } catch (err) {
        console.error(`history prev_kv mismatch: seed ${seed}, start revision ${start}`);
        throw err;
      }
    }
    await h.store.close();
  }
});

test("a page read with a limit resolves prev_kv that lie before the page", async () => {
  const h = await Harness.create();
  const live = recordLive(h);
  for (let i = 0; i < 40; i++) await h.put(`k${i % 5}`, `v${i}`);
  const seen: Event[] = [];
  for (let next = 7; ; ) {
    const page = await h.store.eventsSince(next, ...ALL, 3);
    if (page.events.length === 0) break;
    seen.push(...page.events);
    next = page.nextRevision;
  }
  expect(seen).toEqual(live.filter((e) => revisionOf(e) >= 7));
  expect(seen.every((e) => e.prevKv !== undefined)).toBe(true);
});

test("prev_kv is left out when the previous version is older than the retained history", async () => {
  const h = await Harness.create({ historyRevisions: 10 });
  const live = recordLive(h);
  await h.put("a", "old"); // 1
  for (let i = 0; i < 30; i++) await h.put("b", String(i)); // 2..31
  await h.put("a", "new"); // 32
  const first = h.store.firstHistoryRevision();
  expect(first).toBeGreaterThan(1);
  const page = await h.store.eventsSince(first, ...ALL);
  const a = page.events.find((e) => dec(e.kv?.key) === "a")!;
  expect(revisionOf(a)).toBe(32);
  expect(a.prevKv).toBeUndefined();
  expect(dec(live.at(-1)!.prevKv?.value)).toBe("old"); // live watchers still got it
  // Every other event's previous version is retained, and resolved.
  const others = page.events.filter((e) => e !== a && revisionOf(e) > first);
  expect(others.length).toBeGreaterThan(5);
  expect(others.every((e) => e.prevKv !== undefined && dec(e.prevKv.value) === String(revisionOf(e) - 3))).toBe(true);
});

test("without prev_kv asked for, no event carries one", async () => {
  const h = await Harness.create();
  for (let i = 0; i < 10; i++) await h.put("k", String(i));
  await h.del("k");
  const page = await h.store.eventsSince(1, ...ALL, 0, false);
  expect(page.events).toHaveLength(11);
  expect(page.events.some((e) => e.prevKv !== undefined)).toBe(false);
});

test("records written with whole prev_kv (the earlier layout) read as they are", async () => {
  const h = await Harness.create();
  await h.put("k", "1");
  await h.put("k", "2");
  const db = h.db();
  const rows = await db.iterator({ gte: HISTORY_START, lt: HISTORY_END }).all();
  expect(rows).toHaveLength(2);
  const [recordKey, bytes] = rows[1];
  const record = fromBinary(WatchResponseSchema, bytes);
  expect(Number(record.events[0].prevKv?.createRevision)).toBe(0); // stored as a reference now
  record.events[0].prevKv = { ...record.events[0].kv!, value: enc("as stored"), modRevision: 1n, version: 1n };
  await db.put(recordKey, toBinary(WatchResponseSchema, record));
  const page = await h.store.eventsSince(2, ...ALL);
  expect(dec(page.events[0].prevKv?.value)).toBe("as stored");
});
