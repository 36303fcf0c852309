// Losing the leader: kill -9 it during a stream of writes, restart the whole cluster in another
// order, and follow a watch across a leader change. One 3-node cluster, tests in order.
import { expect } from "bun:test";
import { Cluster } from "../../src/gen/rbkv/v1/cluster_pb";
import { Consistency, EventType, KV, type WatchResponse } from "../../src/gen/rbkv/v1/kv_pb";
import type { LocalNode } from "../../src/devtools/local_cluster";
import { dec, ELECTION_TIMEOUT_MS, enc, findLeader, sharedCluster, sleep, waitFor, withRetry } from "./support/cluster";
import { Writer, type AckedWrite } from "./support/writer";

const shared = sharedCluster(3);
const it = shared.it;

/** Every key under `prefix` as one linearizable Range on `node`. */
async function readAll(node: LocalNode, prefix: string, consistency = Consistency.LINEARIZABLE): Promise<Map<string, string>> {
  const res = await shared.tc.client(node, "connect-json-fetch").unary(KV.method.range, { key: enc(prefix), rangeEnd: enc(prefix.slice(0, -1) + "0"), consistency });
  return new Map(res.kvs.map((kv) => [dec(kv.key), dec(kv.value)]));
}

function expectAllPresent(acked: AckedWrite[], stored: Map<string, string>): void {
  const missing = acked.filter((a) => stored.get(a.key) !== a.value).map((a) => a.key);
  expect(missing).toEqual([]);
}

let allAcked: AckedWrite[] = [];

it("kill -9 the leader during writes: a new leader, no acknowledged write lost, the old leader catches up", async () => {
  const writer = new Writer(shared.tc, "kill/", 4);
  writer.start();
  let oldLeader: LocalNode;
  try {
    await writer.waitForAcked(60);
    oldLeader = await findLeader(shared.tc);
    expect(await oldLeader.kill()).toBeNull(); // killed by a signal: no exit code
    const killedAt = writer.acked.length;
    // A new leader among the survivors, within a few election timeouts.
    const newLeader = await findLeader(shared.tc, 10 * ELECTION_TIMEOUT_MS);
    expect(newLeader).not.toBe(oldLeader);
    // Writes keep being acknowledged under the new leader.
    await writer.waitForAcked(killedAt + 60);
  } finally {
    await writer.stop();
  }
  expect(writer.hardErrors).toEqual([]);
  allAcked = [...writer.acked];

  // Every acknowledged write is there, read linearizably from each survivor.
  for (const n of shared.tc.nodes.filter((x) => x.running)) expectAllPresent(writer.acked, await readAll(n, "kill/"));

  // The old leader restarts from its own data (no --join-addr) and catches up.
  oldLeader.start();
  await oldLeader.waitReady();
  const last = writer.acked.reduce((a, b) => (b.revision > a.revision ? b : a));
  await waitFor("the restarted node to show the last write (serializable read)", async () => {
    const r = await shared.tc.client(oldLeader, "grpc-js").unary(KV.method.get, { key: enc(last.key), consistency: Consistency.SERIALIZABLE });
    return r.kv && dec(r.kv.value) === last.value ? true : undefined;
  });
  expectAllPresent(writer.acked, await readAll(oldLeader, "kill/", Consistency.SERIALIZABLE));
  await shared.tc.cluster.waitForVoters(3);
});

it("SIGTERM every node during writes (exit 0), restart them in another order without --join-addr: data intact", async () => {
  const writer = new Writer(shared.tc, "term/", 4);
  writer.start();
  let codes: (number | null)[];
  try {
    await writer.waitForAcked(40);
    codes = await Promise.all(shared.tc.nodes.map((n) => n.stop("SIGTERM")));
  } finally {
    await writer.stop();
  }
  expect(codes).toEqual([0, 0, 0]);
  expect(writer.hardErrors).toEqual([]);
  allAcked.push(...writer.acked);
  for (const n of [shared.tc.nodes[2], shared.tc.nodes[0], shared.tc.nodes[1]]) {
    n.start();
    await sleep(300);
  }
  for (const n of shared.tc.nodes) await n.waitReady();
  await shared.tc.cluster.waitForVoters(3);
  const leader = await findLeader(shared.tc);
  expect(leader.running).toBe(true);
  for (const n of shared.tc.nodes) {
    const stored = new Map([...(await withRetry(shared.tc, () => readAll(n, "kill/"))), ...(await withRetry(shared.tc, () => readAll(n, "term/")))]);
    expectAllPresent(allAcked, stored);
    // (grpc-js may still be backing off from the time the node was down: retry UNAVAILABLE.)
    const ml = await withRetry(shared.tc, () => shared.tc.client(n, "grpc-js").unary(Cluster.method.memberList, {}));
    expect(ml.members.map((m) => m.id).sort()).toEqual(shared.tc.nodes.map((x) => x.id).sort());
  }
  // And the cluster takes writes again.
  const put = await withRetry(shared.tc, (n) => shared.tc.client(n, "grpc-js").unary(KV.method.put, { key: enc("after-restart"), value: enc("yes") }));
  expect(put.header!.revision).toBeGreaterThan(0n);
});

it("watch from a past revision across a leader change: every revision exactly once, in order", async () => {
  const prefix = "watch/";
  const acked: AckedWrite[] = [];
  let seq = 0;
  const writeOne = async () => {
    const key = `${prefix}${String(seq).padStart(5, "0")}`;
    const value = `v${seq++}`;
    const res = await withRetry(shared.tc, (n) => shared.tc.client(n, "grpc-js").unary(KV.method.put, { key: enc(key), value: enc(value) }), 30_000, seq);
    acked.push({ key, value, revision: res.header!.revision });
  };
  for (let i = 0; i < 10; i++) await writeOne();
  const startRevision = acked[0].revision;
  const leader = await findLeader(shared.tc);

  // The watch: starts on the leader from a past revision, reconnects elsewhere from last seen + 1.
  const seen: { rev: bigint; key: string; value: string; type: EventType; node: string }[] = [];
  let stopWatching = false;
  const ac = new AbortController();
  let reconnects = 0;
  const watching = (async () => {
    let node: LocalNode = leader;
    while (!stopWatching) {
      const from = seen.length > 0 ? seen[seen.length - 1].rev + 1n : startRevision;
      try {
        const stream = shared.tc.client(node, "grpc-js").stream(KV.method.watch, { key: enc(prefix), rangeEnd: enc("watch0"), startRevision: from }, ac.signal);
        for await (const res of stream as AsyncIterable<WatchResponse>) {
          for (const e of res.events) seen.push({ rev: e.kv!.modRevision, key: dec(e.kv?.key), value: dec(e.kv?.value), type: e.type, node: node.id });
        }
      } catch {
        if (stopWatching) return;
      }
      if (stopWatching) return;
      // Reconnect on another running node.
      reconnects++;
      const others = shared.tc.nodes.filter((n) => n.running && n !== node);
      node = others[reconnects % others.length] ?? node;
      await sleep(50);
    }
  })();

  try {
    for (let i = 0; i < 20; i++) await writeOne();
    await waitFor("the watch to see the first writes", () => (seen.length >= 10 ? true : undefined));
    await leader.kill();
    for (let i = 0; i < 40; i++) await writeOne();
    const finalRevision = acked[acked.length - 1].revision;
    await waitFor("the reconnected watch to reach the last write", () => (seen.length > 0 && seen[seen.length - 1].rev >= finalRevision ? true : undefined), 30_000);
  } finally {
    stopWatching = true;
    ac.abort();
    await watching;
  }

  expect(reconnects).toBeGreaterThan(0);
  expect(new Set(seen.map((s) => s.node)).size).toBeGreaterThan(1);
  const revs = seen.map((s) => s.rev);
  const finalRevision = acked[acked.length - 1].revision;
  // No gaps, no duplicates, in order: exactly startRevision..finalRevision (only this test writes now).
  const expected: bigint[] = [];
  for (let r = startRevision; r <= finalRevision; r++) expected.push(r);
  expect(revs).toEqual(expected);
  expect(seen.every((s) => s.type === EventType.PUT)).toBe(true);
  // Every acknowledged write is the event at its revision.
  const byRev = new Map(seen.map((s) => [s.rev, s]));
  const mismatched = acked.filter((a) => byRev.get(a.revision)?.key !== a.key || byRev.get(a.revision)?.value !== a.value);
  expect(mismatched).toEqual([]);
});
