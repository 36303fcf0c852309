// Every RPC of KV, Cluster and grpc.health.v1.Health against a real 3-node cluster, through three
// clients: @grpc/grpc-js (an implementation independent of ours), Connect JSON over plain
// HTTP/1.1 fetch, and the gRPC-Web transport of @connectrpc/connect-web.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { Cluster } from "../../src/gen/rbkv/v1/cluster_pb";
import { CompareResult, CompareTarget, Consistency, EventType, KV, type WatchResponse } from "../../src/gen/rbkv/v1/kv_pb";
import { Health, HealthCheckResponse_ServingStatus } from "../../src/gen/grpc/health/v1/health_pb";
import type { LocalNode } from "../../src/devtools/local_cluster";
import { type ClientKind, dec, enc, findLeader, sharedCluster, waitFor } from "./support/cluster";

const KINDS: ClientKind[] = ["grpc-js", "connect-json-fetch", "grpc-web-fetch"];

const shared = sharedCluster(3);
const it = shared.it;

async function follower(): Promise<LocalNode> {
  const leader = await findLeader(shared.tc);
  return shared.tc.nodes.find((n) => n !== leader && n.running)!;
}

for (const [i, kind] of KINDS.entries()) {
  describe(`through ${kind}`, () => {
    const k = (s: string) => enc(`${kind}/${s}`);

    it("Put (on a follower: forwarded) then Get linearizable and serializable on every node", async () => {
      const f = await follower();
      const put = await shared.tc.client(f, kind).unary(KV.method.put, { key: k("a"), value: enc("one") });
      const rev = put.header!.revision;
      expect(rev).toBeGreaterThan(0n);
      expect(put.header!.clusterId).not.toBe(0n);
      for (const n of shared.tc.nodes) {
        const got = await shared.tc.client(n, kind).unary(KV.method.get, { key: k("a") });
        expect(dec(got.kv?.value)).toBe("one");
        expect(got.kv?.modRevision).toBe(rev);
        expect(got.kv?.createRevision).toBe(rev);
        expect(got.kv?.version).toBe(1n);
        expect(got.header?.memberId).toBe(n.id);
        const ser = await waitFor("serializable read to catch up", async () => {
          const r = await shared.tc.client(n, kind).unary(KV.method.get, { key: k("a"), consistency: Consistency.SERIALIZABLE });
          return r.kv ? r : undefined;
        });
        expect(dec(ser.kv?.value)).toBe("one");
      }
      const again = await shared.tc.client(f, kind).unary(KV.method.put, { key: k("a"), value: enc("two"), prevKv: true });
      expect(dec(again.prevKv?.value)).toBe("one");
      expect(again.header!.revision).toBeGreaterThan(rev);
      const missing = await shared.tc.client(shared.tc.nodes[i], kind).unary(KV.method.get, { key: k("missing") });
      expect(missing.kv).toBeUndefined();
    });

    it("Range with a prefix, limit, keys_only and count_only; Delete of a range with prev_kv", async () => {
      const n = shared.tc.nodes[i];
      const c = shared.tc.client(n, kind);
      for (const s of ["r/1", "r/2", "r/3"]) await c.unary(KV.method.put, { key: k(s), value: enc(`v${s}`) });
      const all = await c.unary(KV.method.range, { key: k("r/"), rangeEnd: k("r0") });
      expect(all.kvs.map((kv) => dec(kv.key))).toEqual(["r/1", "r/2", "r/3"].map((s) => `${kind}/${s}`));
      expect(all.count).toBe(3n);
      const limited = await c.unary(KV.method.range, { key: k("r/"), rangeEnd: k("r0"), limit: 2n, keysOnly: true });
      expect(limited.kvs.length).toBe(2);
      expect(limited.more).toBe(true);
      expect(limited.kvs[0].value.length).toBe(0);
      const counted = await c.unary(KV.method.range, { key: k("r/"), rangeEnd: k("r0"), countOnly: true, consistency: Consistency.SERIALIZABLE });
      expect(counted.count).toBe(3n);
      expect(counted.kvs.length).toBe(0);
      const del = await c.unary(KV.method.delete, { key: k("r/"), rangeEnd: k("r0"), prevKv: true });
      expect(del.deleted).toBe(3n);
      expect(del.prevKvs.map((kv) => dec(kv.value)).sort()).toEqual(["vr/1", "vr/2", "vr/3"]);
      const after = await c.unary(KV.method.range, { key: k("r/"), rangeEnd: k("r0") });
      expect(after.kvs.length).toBe(0);
    });

    it("Txn: success branch when the compare holds, failure branch when not, one revision for all writes", async () => {
      const c = shared.tc.client(shared.tc.nodes[(i + 1) % 3], kind);
      const absent = { key: k("t"), target: CompareTarget.VERSION, result: CompareResult.EQUAL, targetUnion: { case: "version" as const, value: 0n } };
      const won = await c.unary(KV.method.txn, {
        compare: [absent],
        success: [
          { request: { case: "put", value: { key: k("t"), value: enc("won") } } },
          { request: { case: "put", value: { key: k("t2"), value: enc("also") } } },
        ],
        failure: [{ request: { case: "get", value: { key: k("t") } } }],
      });
      expect(won.succeeded).toBe(true);
      expect(won.responses.map((r) => r.response.case)).toEqual(["put", "put"]);
      const t = await c.unary(KV.method.get, { key: k("t") });
      const t2 = await c.unary(KV.method.get, { key: k("t2") });
      expect(t.kv?.modRevision).toBe(t2.kv?.modRevision);
      const lost = await c.unary(KV.method.txn, {
        compare: [absent],
        success: [{ request: { case: "put", value: { key: k("t"), value: enc("again") } } }],
        failure: [{ request: { case: "range", value: { key: k("t") } } }],
      });
      expect(lost.succeeded).toBe(false);
      const r = lost.responses[0].response;
      expect(r.case).toBe("range");
      if (r.case === "range") expect(dec(r.value.kvs[0].value)).toBe("won");
    });

    it("Watch: replays from a past revision, then follows live writes, with prev_kv", async () => {
      const n = shared.tc.nodes[(i + 2) % 3];
      const c = shared.tc.client(n, kind);
      const first = await c.unary(KV.method.put, { key: k("w/1"), value: enc("a") });
      const start = first.header!.revision;
      const ac = new AbortController();
      const seen: { type: EventType; key: string; value: string; rev: bigint; prev?: string }[] = [];
      const stream = c.stream(KV.method.watch, { key: k("w/"), rangeEnd: k("w0"), startRevision: start, prevKv: true }, ac.signal);
      const reading = (async () => {
        try {
          for await (const res of stream as AsyncIterable<WatchResponse>) {
            for (const e of res.events) {
              seen.push({ type: e.type, key: dec(e.kv?.key), value: dec(e.kv?.value), rev: e.kv!.modRevision, prev: e.prevKv ? dec(e.prevKv.value) : undefined });
            }
            if (seen.length >= 3) ac.abort();
          }
        } catch (err) {
          if (!ac.signal.aborted) throw err;
        }
      })();
      await c.unary(KV.method.put, { key: k("w/1"), value: enc("b") });
      await c.unary(KV.method.delete, { key: k("w/1") });
      await Promise.race([reading, waitFor("three watch events", () => (seen.length >= 3 ? true : undefined))]);
      ac.abort();
      await reading;
      expect(seen.slice(0, 3).map((e) => [e.type, e.key, e.value])).toEqual([
        [EventType.PUT, `${kind}/w/1`, "a"],
        [EventType.PUT, `${kind}/w/1`, "b"],
        [EventType.DELETE, `${kind}/w/1`, ""],
      ]);
      expect(seen[0].rev).toBe(start);
      expect(seen[1].prev).toBe("a");
      expect(seen[1].rev).toBeGreaterThan(seen[0].rev);
      expect(seen[2].rev).toBeGreaterThan(seen[1].rev);
      // The node still serves after the client went away mid-stream.
      expect((await c.unary(KV.method.get, { key: k("w/1") })).kv).toBeUndefined();
    });

    it("Status and MemberList on every node agree on the leader and the three voters", async () => {
      const leader = await findLeader(shared.tc);
      for (const n of shared.tc.nodes) {
        const c = shared.tc.client(n, kind);
        const s = await c.unary(Cluster.method.status, {});
        expect(s.memberId).toBe(n.id);
        expect(s.leaderId).toBe(leader.id);
        expect(s.role).toBe(n === leader ? "leader" : "follower");
        expect(s.commitIndex).toBeGreaterThan(0n);
        expect(s.raftTerm).toBeGreaterThan(0n);
        expect(s.version).not.toBe("");
        const ml = await c.unary(Cluster.method.memberList, {});
        expect(ml.members.map((m) => m.id).sort()).toEqual(shared.tc.nodes.map((x) => x.id).sort());
        expect(ml.members.filter((m) => m.isLeader).map((m) => m.id)).toEqual([leader.id]);
        for (const m of ml.members) {
          const node = shared.tc.nodes.find((x) => x.id === m.id)!;
          expect(m.grpcAddr).toBe(node.grpcAddr);
          expect(m.raftAddr).toBe(node.raftAddr);
          expect(m.isLearner).toBe(false);
        }
      }
    });

    it("MemberAdd (learner), MemberPromote, MemberRemove of a member that never starts", async () => {
      const c = shared.tc.client(await follower(), kind);
      const id = `ghost-${kind}`;
      const added = await c.unary(Cluster.method.memberAdd, { id, grpcAddr: "127.0.0.1:1", raftAddr: "127.0.0.1:2", asLearner: true });
      expect(added.member?.id).toBe(id);
      expect(added.member?.isLearner).toBe(true);
      // Adding it again with the same addresses is a no-op (join is idempotent).
      const again = await c.unary(Cluster.method.memberAdd, { id, grpcAddr: "127.0.0.1:1", raftAddr: "127.0.0.1:2", asLearner: true });
      expect(again.members.filter((m) => m.id === id).length).toBe(1);
      const promoted = await c.unary(Cluster.method.memberPromote, { id });
      expect(promoted.members.find((m) => m.id === id)?.isLearner).toBe(false);
      const removed = await c.unary(Cluster.method.memberRemove, { id });
      expect(removed.members.map((m) => m.id)).not.toContain(id);
      const ml = await waitFor("every node to drop the member", async () => {
        for (const n of shared.tc.nodes) {
          const l = await shared.tc.client(n, kind).unary(Cluster.method.memberList, {});
          if (l.members.some((m) => m.id === id)) return undefined;
        }
        return shared.tc.client(shared.tc.nodes[0], kind).unary(Cluster.method.memberList, {});
      });
      expect(ml.members.length).toBe(3);
    });

    it("TransferLeadership to a named follower: Status on it shows it leads", async () => {
      const target = await follower();
      const c = shared.tc.client(shared.tc.nodes[i], kind);
      const res = await c.unary(Cluster.method.transferLeadership, { targetId: target.id });
      expect(res.leaderId).toBe(target.id);
      const s = await waitFor("the target to report itself leader", async () => {
        const st = await shared.tc.client(target, kind).unary(Cluster.method.status, {});
        return st.role === "leader" ? st : undefined;
      });
      expect(s.leaderId).toBe(target.id);
      // Writes work under the new leader.
      const put = await c.unary(KV.method.put, { key: k("after-transfer"), value: enc("x") });
      expect(put.header!.revision).toBeGreaterThan(0n);
    });

    it("Snapshot streams chunks whose SHA-256 matches the checksum on the last one", async () => {
      const c = shared.tc.client(shared.tc.nodes[i], kind);
      const blobs: Uint8Array[] = [];
      let checksum: Uint8Array | null = null;
      let header = false;
      for await (const chunk of c.stream(Cluster.method.snapshot, {})) {
        if (chunk.header) header = true;
        blobs.push(chunk.blob);
        if (chunk.checksum.length > 0) checksum = chunk.checksum;
      }
      expect(header).toBe(true);
      const total = blobs.reduce((s, b) => s + b.length, 0);
      expect(total).toBeGreaterThan(0);
      const hash = createHash("sha256");
      for (const b of blobs) hash.update(b);
      expect(checksum).not.toBeNull();
      expect(Buffer.from(checksum!).toString("hex")).toBe(hash.digest("hex"));
    });

    it("grpc.health.v1.Health/Check answers SERVING for the server and our services", async () => {
      const c = shared.tc.client(shared.tc.nodes[i], kind);
      for (const service of ["", "rbkv.v1.KV", "rbkv.v1.Cluster"]) {
        const res = await c.unary(Health.method.check, { service });
        expect(res.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      }
      const err = await c.unary(Health.method.check, { service: "no.such.Service" }).then(() => null, (e: unknown) => e);
      expect((err as { code?: number } | null)?.code).toBe(5); // NOT_FOUND
    });
  });
}

test("GET / answers with an HTML page on every node (the dashboard names the node through Status over gRPC-Web)", async () => {
  for (const n of shared.tc.nodes) {
    const res = await fetch(`${n.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect((await res.text()).toLowerCase()).toContain("<html");
  }
});
