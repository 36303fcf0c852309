// Every RPC, through every kind of client the port must serve.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Cluster } from "../../src/gen/rbkv/v1/cluster_pb";
import { CompareResult, CompareTarget, KV } from "../../src/gen/rbkv/v1/kv_pb";
import { CLIENT_KINDS, makeClient, type RpcClient } from "./clients";
import { startHarness, type Harness } from "./harness";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.server.close();
});

for (const kind of CLIENT_KINDS) {
  describe(`via ${kind}`, () => {
    let c: RpcClient;
    beforeAll(() => {
      c = makeClient(kind, h.port);
    });
    afterAll(() => c.close());
    const k = (s: string) => enc(`${kind}/${s}`);

    test("Put then Get returns the value and revision", async () => {
      const put = await c.unary(KV.method.put, { key: k("a"), value: enc("1"), ttl: { seconds: 60n } });
      expect(put.header?.revision).toBe(h.kv.revision);
      const got = await c.unary(KV.method.get, { key: k("a") });
      expect(dec(got.kv?.value)).toBe("1");
      expect(got.kv?.expiresAt).toBeDefined();
      const missing = await c.unary(KV.method.get, { key: k("nope") });
      expect(missing.kv).toBeUndefined();
    });

    test("many calls in flight at once each get their own whole answer (answers of one turn share writes)", async () => {
      const n = 64;
      const puts = await Promise.all(Array.from({ length: n }, (_, i) => c.unary(KV.method.put, { key: k(`many/${i}`), value: enc(`v${i}`) })));
      const revisions = puts.map((p) => p.header?.revision);
      expect(new Set(revisions).size).toBe(n);
      const gets = await Promise.all(Array.from({ length: n }, (_, i) => c.unary(KV.method.get, { key: k(`many/${i}`) })));
      expect(gets.map((g) => dec(g.kv?.value))).toEqual(Array.from({ length: n }, (_, i) => `v${i}`));
      expect(gets.map((g) => g.kv?.modRevision)).toEqual(revisions);
    });

    test("Range, Delete with prev_kv", async () => {
      await c.unary(KV.method.put, { key: k("r/1"), value: enc("x") });
      await c.unary(KV.method.put, { key: k("r/2"), value: enc("y") });
      const r = await c.unary(KV.method.range, { key: k("r/"), rangeEnd: k("r0"), limit: 1n });
      expect(r.kvs.map((kv) => dec(kv.value))).toEqual(["x"]);
      expect(r.more).toBe(true);
      expect(r.count).toBe(2n);
      const d = await c.unary(KV.method.delete, { key: k("r/"), rangeEnd: k("r0"), prevKv: true });
      expect(d.deleted).toBe(2n);
      expect(d.prevKvs.length).toBe(2);
    });

    test("Txn takes the success branch when the compare holds", async () => {
      const t = await c.unary(KV.method.txn, {
        compare: [{ key: k("t"), target: CompareTarget.VERSION, result: CompareResult.EQUAL, targetUnion: { case: "version", value: 0n } }],
        success: [{ request: { case: "put", value: { key: k("t"), value: enc("won") } } }],
        failure: [{ request: { case: "get", value: { key: k("t") } } }],
      });
      expect(t.succeeded).toBe(true);
      expect(t.responses[0].response.case).toBe("put");
      const again = await c.unary(KV.method.txn, {
        compare: [{ key: k("t"), target: CompareTarget.VERSION, result: CompareResult.EQUAL, targetUnion: { case: "version", value: 0n } }],
        success: [],
        failure: [{ request: { case: "get", value: { key: k("t") } } }],
      });
      expect(again.succeeded).toBe(false);
      const r = again.responses[0].response;
      expect(r.case === "get" ? dec(r.value.kv?.value) : "").toBe("won");
    });

    test("Watch streams events until the client cancels", async () => {
      const ac = new AbortController();
      const aborted = h.kv.nextStreamAbort();
      const seen: string[] = [];
      try {
        for await (const res of c.stream(KV.method.watch, { key: k("w") }, ac.signal)) {
          seen.push(dec(res.events[0].kv?.value));
          if (seen.length === 3) ac.abort();
        }
      } catch {
        // Cancelling surfaces as an error on some clients.
      }
      expect(seen).toEqual(["v1", "v2", "v3"]);
      await aborted;
    });

    test("Cluster: Status, MemberList, MemberAdd, MemberPromote, MemberRemove, TransferLeadership", async () => {
      const s = await c.unary(Cluster.method.status, {});
      expect(s.role).toBe("leader");
      const id = `m-${kind}`;
      const added = await c.unary(Cluster.method.memberAdd, { id, grpcAddr: "10.0.0.9:2379", raftAddr: "10.0.0.9:2380", asLearner: true });
      expect(added.member?.isLearner).toBe(true);
      const promoted = await c.unary(Cluster.method.memberPromote, { id });
      expect(promoted.members.find((m) => m.id === id)?.isLearner).toBe(false);
      const list = await c.unary(Cluster.method.memberList, {});
      expect(list.members.some((m) => m.id === id)).toBe(true);
      const removed = await c.unary(Cluster.method.memberRemove, { id });
      expect(removed.members.some((m) => m.id === id)).toBe(false);
      const moved = await c.unary(Cluster.method.transferLeadership, { targetId: "n3" });
      expect(moved.leaderId).toBe("n3");
    });

    test("Snapshot streams every chunk and ends with a checksum", async () => {
      const chunks = [];
      for await (const chunk of c.stream(Cluster.method.snapshot, {})) chunks.push(chunk);
      expect(chunks.length).toBe(3);
      expect(chunks[0].header?.memberId).toBe("n1");
      expect(chunks[2].remainingBytes).toBe(0n);
      expect(chunks[2].checksum.length).toBe(32);
    });
  });
}
