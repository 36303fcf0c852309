// Raft dissertation chapter 5: log compaction and InstallSnapshot.
import { expect, test } from "bun:test";
import { TestCluster, enc, ofType, to } from "./harness";

/** a leads; c was cut off while 10 entries committed; a's log is then compacted to its commit. */
function compactedWhileCAway(): TestCluster {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  c.isolated.add("c");
  for (let i = 0; i < 10; i++) c.raft("a").propose(enc(`v${i}`));
  c.settle();
  expect(c.raft("a").status().commit).toBe(11);
  const a = c.node("a");
  a.storage.compact(a.raft.snapshotMetaAt(11));
  expect(a.raft.status().firstIndex).toBe(12);
  c.isolated.delete("c");
  return c;
}

test("snapshotMetaAt describes the compaction point: index, term and configuration", () => {
  const c = compactedWhileCAway();
  expect(c.node("a").storage.snapshot()).toEqual({ index: 11, term: 1, conf: { voters: ["a", "b", "c"], learners: [] } });
});

test("a follower that lags behind the compaction point is sent a snapshot", () => {
  const c = compactedWhileCAway();
  c.fillSnapshots = false;
  c.tickAll(5);
  const snaps = c.sentOf("snap", { to: "c" });
  expect(snaps.length).toBe(1);
  expect(snaps[0]).toEqual({ type: "snap", from: "a", to: "c", term: 1 });
  expect(c.raft("a").status().progress.c.state).toBe("snapshot");
  // While the snapshot streams, nothing else is sent to c but heartbeats.
  const after = c.sent.slice(c.sent.indexOf(snaps[0]) + 1).filter(to("c"));
  expect(after.length).toBeGreaterThan(0);
  expect(new Set(after.map((m) => m.type))).toEqual(new Set(["heartbeat"]));
});

test("a delivered snapshot restores the follower, and replication continues after it", () => {
  const c = compactedWhileCAway();
  c.fillSnapshots = false;
  c.tickAll(5);
  // The runtime streams the snapshot, then hands the message to c's core with the meta filled in.
  c.fillSnapshots = true;
  const snap = c.sentOf("snap", { to: "c" })[0];
  c.raft("c").step({ ...snap, snapshot: c.node("a").storage.snapshot() });
  const rd = c.processReady("c");
  expect(rd?.snapshot).toEqual({ index: 11, term: 1, conf: { voters: ["a", "b", "c"], learners: [] } });
  expect(rd?.hardState?.commit).toBe(11);
  expect(rd?.committedEntries).toEqual([]);
  expect(rd?.sendAfterPersist.map((m) => [m.type, m.type === "appResp" ? m.index : -1])).toEqual([["appResp", 11]]);
  expect(c.raft("c").status()).toMatchObject({ commit: 11, firstIndex: 12, lastIndex: 11 });
  c.settle();
  expect(c.raft("a").status().progress.c).toMatchObject({ match: 11, state: "replicate" });
  c.raft("a").reportSnapshot("c", true);
  c.raft("a").propose(enc("after"));
  c.settle();
  c.tickAll(2);
  expect(c.logTerms("c")).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  expect(c.appliedData("c")).toEqual(["after"]);
  expect(c.raft("c").status().commit).toBe(12);
});

test("a snapshot the follower already has (by commit) is acknowledged without restoring", () => {
  const c = compactedWhileCAway();
  c.settle();
  const before = c.raft("b").status();
  c.raft("b").step({ type: "snap", from: "a", to: "b", term: 1, snapshot: c.node("a").storage.snapshot() });
  const rd = c.processReady("b");
  expect(rd?.snapshot).toBeNull();
  expect(rd?.sendAfterPersist.map((m) => [m.type, m.type === "appResp" ? m.index : -1])).toEqual([["appResp", 11]]);
  expect(c.raft("b").status().lastIndex).toBe(before.lastIndex);
});

test("after reportSnapshot(failure) the leader waits for the next heartbeat answer, then sends the snapshot again", () => {
  const c = compactedWhileCAway();
  c.fillSnapshots = false;
  c.dropIf.push(ofType("snap")); // the stream fails
  c.tickAll(5);
  expect(c.sentOf("snap", { to: "c" }).length).toBe(1);
  // Until reported, the leader keeps waiting for the snapshot.
  c.tickAll(3);
  expect(c.sentOf("snap", { to: "c" }).length).toBe(1);
  c.raft("a").reportSnapshot("c", false);
  expect(c.raft("a").status().progress.c.state).toBe("probe");
  c.processReady("a", true);
  expect(c.sentOf("snap", { to: "c" }).length).toBe(1);
  c.dropIf = [];
  c.fillSnapshots = true;
  c.tickAll(1);
  expect(c.sentOf("snap", { to: "c" }).length).toBe(2);
  c.settle();
  expect(c.raft("c").status().commit).toBe(11);
  expect(c.raft("a").status().progress.c).toMatchObject({ match: 11, state: "replicate" });
});
