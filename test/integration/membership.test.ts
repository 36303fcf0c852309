// Membership on a real cluster that compacts its log often (--snapshot-entries=50
// --retain-entries=10): a fourth node joins and catches up from a streamed snapshot, a node is
// removed, leadership moves to a named node.
import { expect } from "bun:test";
import { Cluster } from "../../src/gen/rbkv/v1/cluster_pb";
import { Consistency, KV } from "../../src/gen/rbkv/v1/kv_pb";
import type { LocalNode } from "../../src/devtools/local_cluster";
import { dec, enc, findLeader, sharedCluster, waitFor, withRetry } from "./support/cluster";

const shared = sharedCluster(3, ["--snapshot-entries=50", "--retain-entries=10"]);
const it = shared.it;

const KEYS = 300;
const keyOf = (i: number) => `snap/${String(i).padStart(4, "0")}`;
let fourth: LocalNode;

async function rangeCount(node: LocalNode, consistency: Consistency): Promise<Map<string, string>> {
  const res = await shared.tc.client(node, "grpc-js").unary(KV.method.range, { key: enc("snap/"), rangeEnd: enc("snap0"), consistency });
  return new Map(res.kvs.map((kv) => [dec(kv.key), dec(kv.value)]));
}

it("a fourth node joins after the log was compacted and catches up from a snapshot", async () => {
  // A few hundred writes, 10 at a time, spread over the nodes: several compactions.
  for (let i = 0; i < KEYS; i += 10) {
    await Promise.all(
      Array.from({ length: 10 }, (_, j) =>
        withRetry(shared.tc, (n) => shared.tc.client(n, "grpc-js").unary(KV.method.put, { key: enc(keyOf(i + j)), value: enc(`v${i + j}`) }), 20_000, i + j),
      ),
    );
  }
  await waitFor("a compaction on every node", () => (shared.tc.nodes.every((n) => n.recent.some((l) => l.includes("compacted log"))) ? true : undefined));

  fourth = await shared.tc.cluster.addNode();
  fourth.start(shared.tc.nodes[1].grpcAddr); // any member will do: it forwards to the leader
  await fourth.waitReady();
  await shared.tc.cluster.waitForVoters(4);
  const stored = await waitFor("the new node to hold every key (serializable read)", async () => {
    const m = await rangeCount(fourth, Consistency.SERIALIZABLE);
    return m.size === KEYS ? m : undefined;
  });
  for (let i = 0; i < KEYS; i++) expect(stored.get(keyOf(i))).toBe(`v${i}`);
  expect(fourth.recent.some((l) => l.includes("installed snapshot"))).toBe(true);
  const ml = await shared.tc.client(fourth, "grpc-js").unary(Cluster.method.memberList, {});
  const me = ml.members.find((m) => m.id === fourth.id);
  expect(me?.isLearner).toBe(false);
  expect(me?.grpcAddr).toBe(fourth.grpcAddr);
});

it("restarting the new node with --join-addr still set does no harm (joining is idempotent)", async () => {
  expect(await fourth.stop("SIGTERM")).toBe(0);
  fourth.start(shared.tc.nodes[2].grpcAddr);
  await fourth.waitReady();
  await shared.tc.cluster.waitForVoters(4);
  const ml = await waitFor("a member list with four voters", async () => {
    const l = await shared.tc.client(shared.tc.nodes[0], "connect-json-fetch").unary(Cluster.method.memberList, {});
    return l.members.length === 4 && l.members.every((m) => !m.isLearner) ? l : undefined;
  });
  expect(ml.members.filter((m) => m.id === fourth.id).length).toBe(1);
  const stored = await waitFor("the node to serve every key again", async () => {
    const m = await rangeCount(fourth, Consistency.LINEARIZABLE);
    return m.size === KEYS ? m : undefined;
  });
  expect(stored.get(keyOf(KEYS - 1))).toBe(`v${KEYS - 1}`);
});

it("TransferLeadership to the new node: its Status shows it leads, writes go on", async () => {
  const before = await findLeader(shared.tc);
  const target = before === fourth ? shared.tc.nodes[0] : fourth;
  const res = await shared.tc.client(shared.tc.nodes[2], "connect-json-fetch").unary(Cluster.method.transferLeadership, { targetId: target.id });
  expect(res.leaderId).toBe(target.id);
  await waitFor("the target to lead", async () => {
    const s = await shared.tc.client(target, "grpc-js").unary(Cluster.method.status, {});
    return s.role === "leader" && s.leaderId === target.id ? true : undefined;
  });
  for (const n of shared.tc.nodes) {
    const s = await waitFor(`${n.spec.name} to know the new leader`, async () => {
      const st = await shared.tc.client(n, "grpc-js").unary(Cluster.method.status, {});
      return st.leaderId === target.id ? st : undefined;
    });
    expect(s.leaderId).toBe(target.id);
  }
  const put = await shared.tc.client(shared.tc.nodes[0], "grpc-js").unary(KV.method.put, { key: enc("after/transfer"), value: enc("ok") });
  expect(put.header!.revision).toBeGreaterThan(0n);
});

it("MemberRemove a follower: MemberList on every remaining node no longer has it; the cluster keeps working", async () => {
  const leader = await findLeader(shared.tc);
  const victim = shared.tc.nodes.find((n) => n !== leader && n !== fourth)!;
  const asker = shared.tc.nodes.find((n) => n !== victim && n !== leader)!;
  const res = await shared.tc.client(asker, "grpc-js").unary(Cluster.method.memberRemove, { id: victim.id });
  expect(res.members.map((m) => m.id)).not.toContain(victim.id);
  const remaining = shared.tc.nodes.filter((n) => n !== victim);
  for (const n of remaining) {
    const ml = await waitFor(`${n.spec.name} to drop the member`, async () => {
      const l = await shared.tc.client(n, "grpc-js").unary(Cluster.method.memberList, {});
      return l.members.some((m) => m.id === victim.id) ? undefined : l;
    });
    expect(ml.members.map((m) => m.id).sort()).toEqual(remaining.map((x) => x.id).sort());
  }
  expect(await victim.stop("SIGTERM")).toBe(0);
  // Removing it again is NOT_FOUND.
  const again = await shared.tc.client(asker, "grpc-js").unary(Cluster.method.memberRemove, { id: victim.id }).then(() => null, (e: unknown) => e);
  expect((again as { code?: number } | null)?.code).toBe(5);
  // Three voters left: writes and linearizable reads work on each.
  for (const n of remaining) {
    await withRetry(shared.tc, () => shared.tc.client(n, "grpc-js").unary(KV.method.put, { key: enc(`after/remove/${n.spec.name}`), value: enc("ok") }));
    const all = await rangeCount(n, Consistency.LINEARIZABLE);
    expect(all.size).toBe(KEYS);
  }
});
