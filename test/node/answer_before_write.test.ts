// A node answers a write once its entry is committed and its result computed, while LevelDB is
// still writing the batch. These tests hold that write back and check what clients see meanwhile:
// the answer itself, and reads and watches that must not be older than an answered write.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster } from "../../src/gen/rbkv/v1/cluster_pb";
import { Consistency, KV } from "../../src/gen/rbkv/v1/kv_pb";
import { DEFAULT_NODE_CONFIG } from "../../src/node/config";
import { startNode, type RunningNode } from "../../src/node/start";
import { makeClient, type RpcClient } from "../server/clients";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
/** Long enough that a loaded CI machine answers the put well within it. */
const HOLD_MS = 1000;

let dir: string;
let running: RunningNode;
let client: RpcClient;
/** While set, every LevelDB batch of the store waits for this before it is written. */
let gate: Promise<void> | null = null;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rbkv-early-"));
  running = await startNode(
    { ...DEFAULT_NODE_CONFIG, id: "n1", grpcAddr: "127.0.0.1:0", raftAddr: "127.0.0.1:0", raftAdvertiseAddr: "", logDir: join(dir, "log"), kvDir: join(dir, "kv"), tickMs: 20, quiet: true },
    () => {},
  );
  const db = (running.node.kv as unknown as { db: { batch(ops: unknown, o: unknown): Promise<void> } }).db;
  const batch = db.batch.bind(db);
  db.batch = async (ops, o) => {
    if (gate) await gate;
    return batch(ops, o);
  };
  client = makeClient("grpc-js", running.grpcPort);
  await client.unary(KV.method.put, { key: enc("warm"), value: enc("up") });
});

afterAll(async () => {
  client?.close();
  await running?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Holds every LevelDB write back for HOLD_MS from now. */
function holdWrites(): void {
  gate = new Promise((resolve) => setTimeout(resolve, HOLD_MS)).then(() => {
    gate = null;
  });
}

test("a put is answered while its batch is still being written", async () => {
  holdWrites();
  const put = await client.unary(KV.method.put, { key: enc("k1"), value: enc("v1") });
  // Answered, while the store has not taken the batch in yet.
  expect(running.node.kv.writesSettled()).not.toBeNull();
  expect(running.node.kv.revision()).toBeLessThan(Number(put.header?.revision));
  await running.node.kv.writesSettled();
  expect(running.node.kv.revision()).toBe(Number(put.header?.revision));
});

test("a serializable read right after an answered put sees it", async () => {
  holdWrites();
  await client.unary(KV.method.put, { key: enc("k2"), value: enc("v2") });
  expect(running.node.kv.writesSettled()).not.toBeNull();
  const got = await client.unary(KV.method.get, { key: enc("k2"), consistency: Consistency.SERIALIZABLE });
  expect(dec(got.kv?.value)).toBe("v2");
  const range = await client.unary(KV.method.range, { key: enc("k2"), rangeEnd: enc("k3"), consistency: Consistency.SERIALIZABLE });
  expect(range.kvs.map((kv) => dec(kv.value))).toEqual(["v2"]);
});

test("a linearizable read right after an answered put sees it", async () => {
  holdWrites();
  await client.unary(KV.method.put, { key: enc("k3"), value: enc("v3") });
  const got = await client.unary(KV.method.get, { key: enc("k3") });
  expect(dec(got.kv?.value)).toBe("v3");
});

test("a watch from now, started right after an answered put, does not replay it", async () => {
  holdWrites();
  const put = await client.unary(KV.method.put, { key: enc("w/1"), value: enc("a") });
  const abort = new AbortController();
  const seen: string[] = [];
  const watching = (async () => {
    for await (const res of client.stream(KV.method.watch, { key: enc("w/"), rangeEnd: enc("w0") }, abort.signal)) {
      for (const e of res.events) seen.push(`${dec(e.kv?.value)}@${e.kv?.modRevision}`);
      if (seen.length > 0) return;
    }
  })().catch(() => {});
  await running.node.kv.writesSettled();
  await new Promise((r) => setTimeout(r, 100));
  await client.unary(KV.method.put, { key: enc("w/1"), value: enc("b") });
  await Promise.race([watching, new Promise((r) => setTimeout(r, 3000))]);
  abort.abort();
  expect(seen).toEqual([`b@${Number(put.header?.revision) + 1}`]);
});

test("a membership change answers with the new membership", async () => {
  holdWrites();
  const res = await client.unary(Cluster.method.memberAdd, { id: "n9", grpcAddr: "127.0.0.1:1", raftAddr: "127.0.0.1:2", asLearner: true });
  expect(res.members.map((m) => m.id).sort()).toEqual(["n1", "n9"]);
  const removed = await client.unary(Cluster.method.memberRemove, { id: "n9" });
  expect(removed.members.map((m) => m.id)).toEqual(["n1"]);
});
