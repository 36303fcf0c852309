// Time to live seen the same way on every node, and compare-and-swap under contention from many
// independent clients. One 3-node cluster.
import { expect } from "bun:test";
import { CompareResult, CompareTarget, Consistency, EventType, KV, type WatchResponse } from "../../src/gen/rbkv/v1/kv_pb";
import { dec, enc, makeClient, type RpcClient, sharedCluster, sleep, waitFor } from "./support/cluster";

const shared = sharedCluster(3);
const it = shared.it;

it("put with ttl 1s: after expiry no node returns the key, and watchers on every node see EVENT_TYPE_EXPIRE", async () => {
  const key = enc("ttl/session");
  const other = enc("ttl/keeps");
  const c0 = shared.tc.client(shared.tc.nodes[0], "grpc-js");
  const before = await c0.unary(KV.method.get, { key: other });
  const from = before.header!.revision + 1n;

  // A watcher on each node, from the next revision (so none can miss the put).
  const ac = new AbortController();
  const events: { node: string; type: EventType; rev: bigint; key: string }[][] = shared.tc.nodes.map(() => []);
  const watching = shared.tc.nodes.map(async (n, i) => {
    try {
      const s = shared.tc.client(n, "grpc-js").stream(KV.method.watch, { key: enc("ttl/"), rangeEnd: enc("ttl0"), startRevision: from }, ac.signal);
      for await (const res of s as AsyncIterable<WatchResponse>) {
        for (const e of res.events) events[i].push({ node: n.id, type: e.type, rev: e.kv!.modRevision, key: dec(e.kv?.key) });
      }
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    }
  });

  try {
    const put = await shared.tc.client(shared.tc.nodes[1], "grpc-js").unary(KV.method.put, { key, value: enc("token"), ttl: { seconds: 1n } });
    const ackedAt = Date.now();
    await c0.unary(KV.method.put, { key: other, value: enc("no ttl") });
    const live = await c0.unary(KV.method.get, { key });
    expect(dec(live.kv?.value)).toBe("token");
    expect(live.kv?.expiresAt).toBeDefined();
    const expiresAtMs = Number(live.kv!.expiresAt!.seconds) * 1000 + Math.floor(live.kv!.expiresAt!.nanos / 1e6);
    expect(expiresAtMs).toBeLessThanOrEqual(ackedAt + 1000);

    // Past the expiry, no node returns it, even from its local state (serializable), whether or not
    // the expire entry has reached it yet.
    await sleep(Math.max(0, expiresAtMs - Date.now()) + 20);
    for (const n of shared.tc.nodes) {
      const ser = await shared.tc.client(n, "grpc-js").unary(KV.method.get, { key, consistency: Consistency.SERIALIZABLE });
      expect(ser.kv).toBeUndefined();
      const range = await shared.tc.client(n, "connect-json-fetch").unary(KV.method.range, { key: enc("ttl/"), rangeEnd: enc("ttl0"), consistency: Consistency.SERIALIZABLE });
      expect(range.kvs.map((kv) => dec(kv.key))).toEqual(["ttl/keeps"]);
    }

    // The expiry goes through the log: each node's watcher sees PUT then EXPIRE, at the same revision everywhere.
    await waitFor("an EXPIRE event on every node", () => (events.every((ev) => ev.some((e) => e.type === EventType.EXPIRE)) ? true : undefined));
    const expireRevs = new Set<bigint>();
    for (const ev of events) {
      const forKey = ev.filter((e) => e.key === "ttl/session");
      expect(forKey.map((e) => e.type)).toEqual([EventType.PUT, EventType.EXPIRE]);
      expect(forKey[0].rev).toBe(put.header!.revision);
      expect(forKey[1].rev).toBeGreaterThan(put.header!.revision);
      expireRevs.add(forKey[1].rev);
    }
    expect(expireRevs.size).toBe(1);
    for (const n of shared.tc.nodes) {
      const lin = await shared.tc.client(n, "grpc-js").unary(KV.method.get, { key });
      expect(lin.kv).toBeUndefined();
      expect(lin.header!.revision).toBeGreaterThanOrEqual([...expireRevs][0]);
      const kept = await shared.tc.client(n, "grpc-js").unary(KV.method.get, { key: other });
      expect(dec(kept.kv?.value)).toBe("no ttl");
    }
  } finally {
    ac.abort();
    await Promise.all(watching);
  }
});

const WORKERS = 16;
const INCREMENTS = 5;

it(`compare-and-swap under contention: ${WORKERS} clients x ${INCREMENTS} increments, final = successes = ${WORKERS * INCREMENTS}`, async () => {
  const key = enc("cas/counter");
  await shared.tc.client(shared.tc.nodes[0], "grpc-js").unary(KV.method.put, { key, value: enc("0") });
  let successes = 0;
  let conflicts = 0;
  const errors: unknown[] = [];
  // Independent clients (each its own connection), spread over the three nodes.
  const clients: RpcClient[] = Array.from({ length: WORKERS }, (_, w) => makeClient("grpc-js", shared.tc.nodes[w % shared.tc.nodes.length].spec.grpcPort));
  try {
    await Promise.all(
      clients.map(async (c) => {
        let done = 0;
        while (done < INCREMENTS && errors.length === 0) {
          try {
            const cur = await c.unary(KV.method.get, { key });
            const kv = cur.kv!;
            const next = Number(dec(kv.value)) + 1;
            const res = await c.unary(KV.method.txn, {
              compare: [
                { key, target: CompareTarget.MOD, result: CompareResult.EQUAL, targetUnion: { case: "modRevision", value: kv.modRevision } },
                { key, target: CompareTarget.VALUE, result: CompareResult.EQUAL, targetUnion: { case: "value", value: kv.value } },
              ],
              success: [{ request: { case: "put", value: { key, value: enc(String(next)) } } }],
              failure: [],
            });
            if (res.succeeded) {
              successes++;
              done++;
            } else {
              conflicts++;
            }
          } catch (err) {
            // Any error would make the count ambiguous; the cluster is healthy, so there should be none.
            errors.push(err);
          }
        }
      }),
    );
  } finally {
    for (const c of clients) c.close();
  }
  expect(errors).toEqual([]);
  expect(successes).toBe(WORKERS * INCREMENTS);
  for (const n of shared.tc.nodes) {
    const final = await shared.tc.client(n, "grpc-js").unary(KV.method.get, { key });
    expect(Number(dec(final.kv?.value))).toBe(successes);
    expect(final.kv?.version).toBe(BigInt(successes + 1));
  }
  // There was contention (otherwise this test proves little).
  expect(conflicts).toBeGreaterThan(0);
});
