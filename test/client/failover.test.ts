// The client keeps working when nodes die: writes and reads fail over to the new leader, and a
// watch resumes on another member with every revision exactly once.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { createNodeClient } from "../../src/client/node";
import type { WatchEvent } from "../../src/client";
import { eventually, startCluster, type TestCluster } from "./helpers";

// Every test starts subprocesses or waits on a real cluster; a loaded machine needs room.
setDefaultTimeout(60_000);

let t: TestCluster;

beforeAll(async () => {
  t = await startCluster(3, "rbkv-client-failover-");
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

test("killing the leader mid-workload: puts and gets keep succeeding, the watch misses nothing", async () => {
  const leader = await t.leader();
  // A fresh client's first watch goes to its first endpoint: put the leader first so that the
  // node serving the watch is the one that dies.
  const watchEndpoints = [leader.grpcAddr, ...t.endpoints.filter((e) => e !== leader.grpcAddr)];
  const watcher = createNodeClient(watchEndpoints);
  const writer = createNodeClient(t.endpoints);
  const stop = new AbortController();
  const events: WatchEvent[] = [];
  const watching = (async () => {
    for await (const e of watcher.watch("fo/", { prefix: true, signal: stop.signal })) events.push(e);
  })();
  try {
    // Let the watch connect before the first write (it starts from "now").
    await new Promise((r) => setTimeout(r, 300));
    const revisions: bigint[] = [];
    const total = 60;
    for (let i = 0; i < total; i++) {
      if (i === 20) {
        await leader.kill();
        // The process is gone; let the client's own connection notice before the next call. A
        // write sent in the instant a connection dies has an unknown outcome, and the client says
        // so instead of retrying (tested in retry_policy.test.ts); this test is about what comes
        // after the leader is dead.
        await new Promise((r) => setTimeout(r, 200));
      }
      const res = await writer.put(`fo/${String(i).padStart(3, "0")}`, String(i));
      revisions.push(res.revision);
      expect((await writer.get(`fo/${String(i).padStart(3, "0")}`))?.valueText).toBe(String(i));
    }
    const newLeader = await t.leader();
    expect(newLeader.grpcAddr).not.toBe(leader.grpcAddr);

    await eventually(() => events.length >= total, 20_000, "all watch events");
    const seen = events.map((e) => e.revision);
    expect(seen).toEqual(revisions);
    expect(new Set(events.map((e) => e.keyText)).size).toBe(total);
    expect(events.every((e) => e.type === "put")).toBe(true);
  } finally {
    stop.abort();
    await watching;
    watcher.close();
    writer.close();
  }
}, 90_000);

test("serializable reads skip a dead member", async () => {
  const client = createNodeClient(t.endpoints, { timeoutMs: 10_000 });
  try {
    for (let i = 0; i < 6; i++) expect((await client.get("fo/000", { serializable: true }))?.valueText).toBe("0");
  } finally {
    client.close();
  }
});
