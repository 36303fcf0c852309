// The client against a real 3-node cluster: routing, strings and bytes, txn, TTL, compacted watch.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { compare, op, WatchCompactedError, type RbkvClient } from "../../src/client";
import { clientFor, eventually, startCluster, type TestCluster } from "./helpers";

// Every test starts subprocesses or waits on a real cluster; a loaded machine needs room.
setDefaultTimeout(60_000);

let t: TestCluster;
let client: RbkvClient;
const served: { method: string; endpoint: string }[] = [];

beforeAll(async () => {
  t = await startCluster(3, "rbkv-client-kv-", ["--history-revisions=20"]);
  client = clientFor(t, (method, endpoint) => served.push({ method, endpoint }));
}, 60_000);

afterAll(async () => {
  client?.close();
  await t?.stop();
});

describe("routing", () => {
  test("writes go straight to the leader", async () => {
    const leader = await t.leader();
    served.length = 0;
    for (let i = 0; i < 6; i++) await client.put(`route/${i}`, "x");
    await client.delete("route/0");
    await client.txn().if(compare.exists("route/1")).then(op.put("route/1", "y")).commit();
    const writes = served.filter((s) => ["Put", "Delete", "Txn"].includes(s.method));
    expect(writes.length).toBe(8);
    expect(new Set(writes.map((w) => w.endpoint))).toEqual(new Set([leader.grpcAddr]));
  });

  test("linearizable reads go to the leader by default", async () => {
    const leader = await t.leader();
    const res = await client.getPrefix("route/");
    expect(res.memberId).toBe(leader.id);
  });

  test("serializable reads are spread over every member", async () => {
    await client.put("spread", "v");
    const members = new Set<string>();
    for (let i = 0; i < 9; i++) members.add((await client.getPrefix("spread", { serializable: true })).memberId);
    expect(members).toEqual(new Set(t.cluster.nodes.map((n) => n.id)));
  });
});

describe("keys and values", () => {
  test("strings and bytes both work, and read back as both", async () => {
    const binaryKey = Uint8Array.of(0x62, 0x00, 0xff, 0x01);
    const binaryValue = Uint8Array.of(0, 1, 2, 254, 255);
    await client.put(binaryKey, binaryValue);
    const kv = await client.get(binaryKey);
    expect(kv?.key).toEqual(binaryKey);
    expect(kv?.value).toEqual(binaryValue);

    await client.put("text/ключ", "значение ✓");
    const text = await client.get(new TextEncoder().encode("text/ключ"));
    expect(text?.valueText).toBe("значение ✓");
    expect(text?.keyText).toBe("text/ключ");
    expect(text?.version).toBe(1n);
    expect(text?.expiresAt).toBeNull();
  });

  test("get of a missing key is null", async () => {
    expect(await client.get("no/such/key")).toBeNull();
  });

  test("getPrefix with limit, keysOnly and count; delete with prefix", async () => {
    for (const k of ["p/a", "p/b", "p/c", "q/a"]) await client.put(k, `v-${k}`);
    const all = await client.getPrefix("p/");
    expect(all.kvs.map((kv) => kv.keyText)).toEqual(["p/a", "p/b", "p/c"]);
    const limited = await client.getPrefix("p/", { limit: 2, keysOnly: true });
    expect(limited.kvs.map((kv) => kv.keyText)).toEqual(["p/a", "p/b"]);
    expect(limited.kvs[0].value.length).toBe(0);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe(3);
    const deleted = await client.delete("p/", { prefix: true, prevKv: true });
    expect(deleted.deleted).toBe(3);
    expect(deleted.prevKvs.map((kv) => kv.valueText)).toEqual(["v-p/a", "v-p/b", "v-p/c"]);
    expect((await client.getPrefix("p/")).kvs).toEqual([]);
    expect(await client.get("q/a")).not.toBeNull();
  });

  test("put returns the previous value when asked", async () => {
    await client.put("prev", "one");
    const res = await client.put("prev", "two", { prevKv: true });
    expect(res.prevKv?.valueText).toBe("one");
    expect(res.revision).toBeGreaterThan(0n);
  });
});

describe("transactions", () => {
  test("compare-and-swap: only the first of two swaps from the same value wins", async () => {
    await client.put("cas", "v1");
    const swap = (to: string) =>
      client.txn().if(compare.value("cas", "=", "v1")).then(op.put("cas", to)).else(op.get("cas")).commit();
    const first = await swap("v2");
    expect(first.succeeded).toBe(true);
    const second = await swap("v3");
    expect(second.succeeded).toBe(false);
    const read = second.results[0];
    expect(read.type).toBe("get");
    if (read.type === "get") expect(read.kv?.valueText).toBe("v2");
    expect((await client.get("cas"))?.valueText).toBe("v2");
  });

  test("create-if-missing and compares on revisions", async () => {
    const create = () => client.txn().if(compare.missing("once")).then(op.put("once", "a")).commit();
    expect((await create()).succeeded).toBe(true);
    expect((await create()).succeeded).toBe(false);
    const kv = (await client.get("once"))!;
    const byRevision = await client
      .txn()
      .if(compare.modRevision("once", "=", kv.modRevision), compare.version("once", "<", 2))
      .then(op.put("once", "b"), op.getPrefix("once"))
      .commit();
    expect(byRevision.succeeded).toBe(true);
    expect(byRevision.results.map((r) => r.type)).toEqual(["put", "range"]);
  });

  test("a builder is not a promise", async () => {
    const builder = client.txn().if(compare.exists("x"));
    await expect(Promise.resolve().then(() => builder)).rejects.toThrow(/commit/);
  });
});

describe("time to live", () => {
  test("a put with a ttl expires", async () => {
    await client.put("ttl/short", "gone soon", { ttl: "1s" });
    const kv = await client.get("ttl/short");
    expect(kv?.expiresAt).toBeInstanceOf(Date);
    await client.put("ttl/ms", "also", { ttlMs: 800 });
    await eventually(async () => (await client.get("ttl/short")) === null && (await client.get("ttl/ms")) === null, 15_000, "expiry");
  });
});

describe("watch history", () => {
  test("a start revision older than the history is a WatchCompactedError", async () => {
    for (let i = 0; i < 30; i++) await client.put("compact/k", String(i));
    const iterator = client.watch("compact/k", { startRevision: 1 })[Symbol.asyncIterator]();
    const err = await iterator.next().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(WatchCompactedError);
    expect((err as WatchCompactedError).compactRevision).toBeGreaterThan(1n);
  });

  test("watch from a kept revision replays it", async () => {
    const put = await client.put("replay/k", "r1");
    await client.put("replay/k", "r2");
    const seen: string[] = [];
    for await (const e of client.watch("replay/k", { startRevision: put.revision })) {
      seen.push(e.kv.valueText);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(["r1", "r2"]);
  });
});
