// Raft paper §5.3 (log replication), §5.4.2 (committing entries from previous terms) and the
// dissertation's §10.2.1 (leader writes its log in parallel with replication).
import { describe, expect, test } from "bun:test";
import { EntryType, Role } from "../../../src/raft/types";
import { TestCluster, dec, enc, ofType, to } from "./harness";

const NO_PREVOTE = { preVote: false };

describe("log matching and conflicts", () => {
  test("a follower's extra entries from old terms are overwritten and missing ones filled in (Figure 7)", () => {
    const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const c = new TestCluster(["a", "b", "c"], NO_PREVOTE, undefined, {
      logs: {
        a: leaderLog,
        b: [1, 1, 1, 4, 4, 5, 5, 6, 6], // missing one entry
        c: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], // uncommitted entries of terms 2 and 3
      },
      hardStates: { a: { term: 6 }, b: { term: 6 }, c: { term: 6 } },
    });
    c.elect("a");
    expect(c.raft("a").status()).toMatchObject({ role: Role.Leader, term: 7 });
    const want = [...leaderLog, 7];
    for (const id of ["a", "b", "c"]) {
      expect(c.logTerms(id)).toEqual(want);
      expect(c.raft(id).status().commit).toBe(11);
    }
    // The overwritten entries carry the leader's data, not the old ones.
    expect(dec(c.node("c").storage.entries(4, 5, 1e9)[0].data)).toBe("4@4");
  });

  test("fast backtracking costs one rejection per conflicting term, not one per entry", () => {
    // The follower diverges from index 5 on with 8 entries of terms 3 and 5.
    const c = new TestCluster(["a", "b", "c"], NO_PREVOTE, undefined, {
      logs: {
        a: [1, 2, 2, 2, 4, 4, 4, 6, 6, 6],
        b: [1, 2, 2, 2, 4, 4, 4, 6, 6, 6],
        c: [1, 2, 2, 2, 3, 3, 3, 5, 5, 5, 5, 5],
      },
      hardStates: { a: { term: 6 }, b: { term: 6 }, c: { term: 6 } },
    });
    c.elect("a");
    expect(c.logTerms("c")).toEqual([1, 2, 2, 2, 4, 4, 4, 6, 6, 6, 7]);
    const rejections = c.sentOf("appResp", { from: "c" }).filter((m) => m.reject);
    expect(rejections.map((m) => [m.index, m.hintIndex, m.hintTerm])).toEqual([
      [10, 10, 5], // skips the follower's whole term 5 ...
      [7, 7, 3], // ... then its whole term 3
    ]);
    expect(c.sentOf("app", { to: "c" }).length).toBe(3);
  });

  test("a follower far behind is found in one round trip", () => {
    const long = [1, ...Array.from({ length: 30 }, () => 5)];
    const c = new TestCluster(["a", "b", "c"], NO_PREVOTE, undefined, {
      logs: { a: long, b: long, c: [1] },
      hardStates: { a: { term: 5 }, b: { term: 5 }, c: { term: 5 } },
    });
    c.elect("a");
    expect(c.logTerms("c")).toEqual([...long, 6]);
    expect(c.sentOf("appResp", { from: "c" }).filter((m) => m.reject).length).toBe(1);
  });

  test("a follower rejects an append whose previous entry it does not have, and keeps its log", () => {
    const c = new TestCluster(["a", "b", "c"], NO_PREVOTE, undefined, { logs: { b: [1, 1] }, hardStates: { b: { term: 2 } } });
    const b = c.raft("b");
    b.step({ type: "app", from: "a", to: "b", term: 2, prevIndex: 2, prevTerm: 2, entries: [{ index: 3, term: 2, type: EntryType.Normal, data: enc("z") }], commit: 0 });
    const rd = b.ready();
    expect(rd.entries).toEqual([]);
    expect(rd.sendAfterPersist).toEqual([{ type: "appResp", from: "b", to: "a", term: 2, reject: true, index: 2, hintIndex: 2, hintTerm: 1 }]);
    expect(b.status().lastIndex).toBe(2);
  });

  test("an append that matches entries the follower already has truncates nothing", () => {
    const c = new TestCluster(["a", "b", "c"], NO_PREVOTE, undefined, { logs: { b: [1, 1, 1] }, hardStates: { b: { term: 1 } } });
    const b = c.raft("b");
    // A delayed, shorter append from the same leader must not cut off entry 3.
    b.step({ type: "app", from: "a", to: "b", term: 1, prevIndex: 0, prevTerm: 0, entries: [{ index: 1, term: 1, type: EntryType.Normal, data: enc("1@1") }], commit: 0 });
    expect(b.status().lastIndex).toBe(3);
    expect(b.ready().entries).toEqual([]);
  });
});

describe("the leader's no-op and the commit rule", () => {
  test("a new leader appends an empty entry of its term and commits it", () => {
    const c = new TestCluster(["a", "b", "c"], NO_PREVOTE, undefined, { logs: { a: [1, 1], b: [1, 1], c: [1] } });
    c.elect("a");
    const noop = c.node("a").storage.entries(3, 4, 1e9)[0];
    expect(noop).toEqual({ index: 3, term: 2, type: EntryType.Normal, data: new Uint8Array(0) });
    expect(c.raft("a").status().commit).toBe(3);
    // The entries of term 1 became committed with it, and everyone applies all three.
    for (const id of ["a", "b", "c"]) expect(c.node(id).applied.map((e) => e.index)).toEqual([1, 2, 3]);
  });

  test("Figure 8: an entry of an earlier term is not committed by counting replicas", () => {
    // a led term 2 and wrote index 2 only on itself; e led term 3 and wrote its own index 2.
    const hs = { term: 3, commit: 1 };
    const c = new TestCluster(["a", "b", "c", "d", "e"], { preVote: false, maxBytesPerMessage: 1 }, undefined, {
      logs: { a: [1, 2], b: [1], c: [1], d: [1], e: [1, 3] },
      hardStates: { a: hs, b: hs, c: hs, d: hs, e: hs },
    });
    c.isolated.add("e");
    c.raft("a").campaign();
    c.processReady("a");
    c.deliver(ofType("vote"));
    for (const id of ["b", "c", "d"]) c.processReady(id);
    c.deliver(ofType("voteResp"));
    expect(c.raft("a").status()).toMatchObject({ role: Role.Leader, term: 4 });
    c.isolated.add("d");
    // a replicates its old entry 2 (one entry per message) to b and c, but its no-op 3 never arrives.
    c.dropIf.push((m) => m.type === "app" && m.entries.some((e) => e.index === 3) && c.raft(m.to).status().lastIndex >= 2);
    c.settle();
    expect(c.logTerms("a")).toEqual([1, 2, 4]);
    expect(c.logTerms("b")).toEqual([1, 2]);
    expect(c.logTerms("c")).toEqual([1, 2]);
    expect(c.raft("a").status().progress.b.match).toBe(2);
    expect(c.raft("a").status().progress.c.match).toBe(2);
    // Entry 2 is on a, b and c, a majority of five, and the leader knows it. It still must not commit ...
    expect(c.raft("a").status().commit).toBe(1);

    // ... because e (last term 3) can still win with b, c and d and overwrite it: Figure 8 (d).
    const fork = new TestCluster(["a", "b", "c", "d", "e"], { preVote: false }, undefined, {
      logs: { a: [1, 2, 4], b: [1, 2], c: [1, 2], d: [1], e: [1, 3] },
      hardStates: { a: { term: 4, vote: "a", commit: 1 }, b: { term: 4, vote: "a", commit: 1 }, c: { term: 4, vote: "a", commit: 1 }, d: { term: 4, vote: "a", commit: 1 }, e: { term: 4, commit: 1 } },
    });
    fork.isolated.add("a");
    fork.elect("e");
    expect(fork.raft("e").status()).toMatchObject({ role: Role.Leader, term: 5 });
    expect(fork.logTerms("b")).toEqual([1, 3, 5]);

    // Figure 8 (e): once an entry of a's own term reaches a majority, both commit.
    // (The lost appends are resent once heartbeats show them unacknowledged for a few ticks.)
    c.dropIf = [];
    c.tickAll(5);
    expect(c.raft("a").status().commit).toBe(3);
    expect(c.node("b").applied.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 2],
      [3, 4],
    ]);
  });

  test("followers learn the commit index without waiting for the next proposal", () => {
    const c = new TestCluster(["a", "b", "c"]);
    c.elect("a");
    c.raft("a").propose(enc("x"));
    c.settle();
    for (const id of ["a", "b", "c"]) {
      expect(c.raft(id).status().commit).toBe(2);
      expect(c.node(id).storage.hardState().commit).toBe(2);
      expect(c.appliedData(id)).toEqual(["x"]);
    }
  });

  test("committed entries come out in order, each exactly once, across a change of leader", () => {
    const c = new TestCluster(["a", "b", "c"]);
    c.elect("a");
    const proposed: string[] = [];
    for (let i = 0; i < 30; i++) {
      const leader = c.leader();
      if (!leader) throw new Error("no leader");
      const v = `v${i}`;
      if (leader.raft.propose(enc(v)).ok) proposed.push(v);
      if (i % 3 === 0) c.settle();
      if (i === 15) {
        c.raft("a").transferLeadership("b");
        c.settle();
        expect(c.leader()?.id).toBe("b");
      }
    }
    c.settle();
    c.tickAll(2);
    for (const id of ["a", "b", "c"]) {
      const idx = c.node(id).applied.map((e) => e.index);
      expect(idx).toEqual(Array.from({ length: idx.length }, (_, i) => i + 1));
      expect(c.appliedData(id)).toEqual(proposed);
    }
    expect(proposed.length).toBe(30);
  });
});

describe("pipelining and batching", () => {
  test("a follower in replicate state gets at most maxInflightMessages unacknowledged appends", () => {
    const c = new TestCluster(["a", "b", "c"], { maxInflightMessages: 2, maxBytesPerMessage: 1 });
    c.elect("a");
    expect(c.raft("a").status().progress.b.state).toBe("replicate");
    for (let i = 0; i < 5; i++) c.raft("a").propose(enc(`e${i}`));
    c.processReady("a");
    const toB = c.take(to("b"));
    expect(toB.map((m) => (m.type === "app" ? m.entries.map((e) => e.index) : m.type))).toEqual([[2], [3]]);
    // One acknowledgement frees one slot: exactly one more message.
    c.raft("b").step(toB[0]);
    c.processReady("b");
    c.deliver(ofType("appResp"));
    c.processReady("a");
    // (An empty append carrying only the new commit index is not counted against the window.)
    const next = c.take(to("b")).filter((m) => m.type === "app" && m.entries.length > 0);
    expect(next.map((m) => (m.type === "app" ? m.entries.map((e) => e.index) : m.type))).toEqual([[4]]);
  });

  test("an append carries at most maxBytesPerMessage of entry data, but at least one entry", () => {
    const c = new TestCluster(["a", "b", "c"], { maxBytesPerMessage: 10 });
    c.elect("a");
    for (let i = 0; i < 5; i++) c.raft("a").propose(enc("4444"));
    c.raft("a").propose(enc("this entry alone is over ten bytes"));
    c.processReady("a");
    const apps = c.take(to("b")).filter(ofType("app"));
    expect(apps.map((m) => (m.type === "app" ? m.entries.map((e) => e.index) : []))).toEqual([[2, 3], [4, 5], [6], [7]]);
  });

  test("proposals made before one ready() become one Ready.entries and one append per follower", () => {
    const c = new TestCluster(["a", "b", "c"]);
    c.elect("a");
    for (const v of ["p", "q", "r"]) expect(c.raft("a").propose(enc(v))).toMatchObject({ ok: true, term: 1 });
    const rd = c.raft("a").ready();
    expect(rd.entries.map((e) => [e.index, dec(e.data)])).toEqual([
      [2, "p"],
      [3, "q"],
      [4, "r"],
    ]);
    const apps = rd.sendNow.filter(ofType("app"));
    expect(apps.map((m) => [m.to, m.type === "app" ? m.entries.length : 0])).toEqual([
      ["b", 3],
      ["c", 3],
    ]);
  });
});

describe("persist before you speak", () => {
  test("the leader's appends go out in sendNow; a follower's acknowledgement waits in sendAfterPersist", () => {
    const c = new TestCluster(["a", "b", "c"]);
    c.elect("a");
    c.raft("a").propose(enc("x"));
    const rd = c.raft("a").ready();
    expect(rd.sendNow.map((m) => [m.type, m.to])).toEqual([
      ["app", "b"],
      ["app", "c"],
    ]);
    expect(rd.sendAfterPersist).toEqual([]);
    c.raft("b").step(rd.sendNow[0]);
    const fr = c.raft("b").ready();
    expect(fr.entries.map((e) => e.index)).toEqual([2]);
    expect(fr.sendNow).toEqual([]);
    expect(fr.sendAfterPersist.map((m) => [m.type, m.to, m.type === "appResp" ? m.index : -1])).toEqual([["appResp", "a", 2]]);
  });

  test("the leader counts its own vote for an entry only after advance() (its write is durable)", () => {
    const c = new TestCluster(["a", "b", "c"]);
    c.elect("a");
    c.isolated.add("c");
    c.raft("a").propose(enc("x"));
    const rd = c.raft("a").ready();
    // The runtime sends first; the follower acknowledges before the leader's own fsync finished.
    c.raft("b").step(rd.sendNow.find(to("b")) as (typeof rd.sendNow)[number]);
    c.processReady("b");
    c.deliver(to("a"));
    expect(c.raft("a").status().commit).toBe(1);
    // Now the leader's write is durable.
    c.node("a").storage.append(rd.entries);
    c.raft("a").advance(rd);
    expect(c.raft("a").status().commit).toBe(2);
  });

  test("entries an acknowledgement commits while the leader's next write is in flight are taken at once, and only once", () => {
    const c = new TestCluster(["a", "b", "c"]);
    c.elect("a");
    c.isolated.add("c");
    c.raft("a").propose(enc("x"));
    c.processReady("a"); // x is durable on a and on its way to b
    c.raft("a").propose(enc("y"));
    const rd = c.raft("a").ready(); // y's write is in flight
    expect(rd.entries.map((e) => dec(e.data))).toEqual(["y"]);
    expect(c.raft("a").takeCommitted()).toEqual([]); // x is not acknowledged yet
    c.raft("b").step(c.take(to("b")).find(ofType("app"))!);
    c.processReady("b");
    c.deliver(to("a")); // b's acknowledgement of x commits it (a's own copy is durable)
    expect(c.raft("a").takeCommitted().map((e) => dec(e.data))).toEqual(["x"]);
    expect(c.raft("a").takeCommitted()).toEqual([]);
    // b acknowledges y too, but with c cut off y needs a's own write: not committed yet.
    c.raft("b").step(rd.sendNow.find(to("b"))!);
    c.processReady("b");
    c.deliver(to("a"));
    expect(c.raft("a").status().commit).toBe(2);
    expect(c.raft("a").takeCommitted()).toEqual([]);
    c.node("a").storage.append(rd.entries);
    c.raft("a").advance(rd);
    expect(c.raft("a").ready().committedEntries.map((e) => dec(e.data))).toEqual(["y"]);
  });

  test("while its write is in flight a leader sends newly proposed entries at once; two followers commit them without it", () => {
    const c = new TestCluster(["a", "b", "c"]);
    c.elect("a");
    c.raft("a").propose(enc("x"));
    const rd = c.raft("a").ready(); // x's write is in flight
    c.raft("a").propose(enc("y"));
    const early = c.raft("a").takeEarlyMessages();
    expect(early.map((m) => [m.type, m.to, m.type === "app" ? m.entries.map((e) => dec(e.data)) : []]).sort()).toEqual([
      ["app", "b", ["y"]],
      ["app", "c", ["y"]],
    ]);
    expect(c.raft("a").takeEarlyMessages()).toEqual([]); // nothing new since
    for (const f of ["b", "c"]) {
      for (const m of rd.sendNow.filter(to(f))) c.raft(f).step(m);
      for (const m of early.filter(to(f))) c.raft(f).step(m);
      c.processReady(f);
    }
    c.deliver(to("a"));
    // x and y are durable on b and c, a majority: committed, though a's own write has not finished.
    expect(c.raft("a").status().commit).toBe(3);
    // The leader still applies only what is durable in its own log.
    expect(c.raft("a").takeCommitted()).toEqual([]);
    c.node("a").storage.append(rd.entries);
    c.raft("a").advance(rd);
    // The next Ready persists y and applies x, but does not send y again.
    const next = c.raft("a").ready();
    expect(next.entries.map((e) => dec(e.data))).toEqual(["y"]);
    expect(next.committedEntries.map((e) => dec(e.data))).toEqual(["x"]);
    expect(next.sendNow.filter(ofType("app")).flatMap((m) => (m.type === "app" ? m.entries : []))).toEqual([]);
    c.node("a").storage.append(next.entries);
    c.raft("a").advance(next);
    expect(c.raft("a").takeCommitted().map((e) => dec(e.data))).toEqual(["y"]);
  });

  test("only a leader with a write in flight has early messages", () => {
    const c = new TestCluster(["a", "b", "c"]);
    c.elect("a");
    c.raft("a").propose(enc("x"));
    expect(c.raft("a").takeEarlyMessages()).toEqual([]); // no Ready in flight: the next Ready sends
    const rd = c.raft("b").ready();
    expect(c.raft("b").takeEarlyMessages()).toEqual([]);
    c.raft("b").advance(rd);
  });

  test("a follower applies only entries that are durable in its own log", () => {
    const c = new TestCluster(["a", "b", "c"]);
    c.elect("a");
    c.raft("a").propose(enc("x"));
    c.settle();
    c.raft("a").propose(enc("y"));
    c.processReady("a");
    c.deliver(to("b"));
    c.processReady("b"); // b persists y
    c.deliver(to("a"));
    c.processReady("a"); // a commits y and tells b
    const commitMsg = c.take(to("b"))[0];
    expect(commitMsg).toMatchObject({ type: "app", commit: 3 });
    c.raft("b").step(commitMsg);
    const rd = c.raft("b").ready();
    expect(rd.committedEntries.map((e) => dec(e.data))).toEqual(["y"]);
    expect(rd.hardState?.commit).toBe(3);
  });
});

// BUG (src/raft/raft.ts stepLeader "heartbeatResp" + progress.ts ticksSinceAck): ticksSinceAck
// counts leader ticks since the follower's match last moved, not since the oldest unacknowledged
// append was sent. On an idle cluster it grows without bound, so the first heartbeat answer that
// arrives after a new append was sent (but before its acknowledgement) finds
// `match < lastIndex && ticksSinceAck > 2 * heartbeatTicks + 1`, declares the fresh append lost,
// drops the follower back to probe and sends the same entries again. Every write after an idle
// period of more than 3 ticks is sent twice to every follower, and the pipeline collapses to one
// message in flight until the duplicate is acknowledged.
test("after an idle period, a heartbeat answer crossing a fresh append does not trigger a resend", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  c.tickAll(10); // idle: heartbeats only
  c.raft("a").tick();
  c.processReady("a");
  c.deliver(ofType("heartbeat"));
  c.processReady("b");
  c.processReady("c");
  // The heartbeat answers are on their way when a client writes.
  c.raft("a").propose(enc("x"));
  c.processReady("a");
  c.deliver(ofType("heartbeatResp"));
  c.settle();
  expect(c.appliedData("b")).toEqual(["x"]);
  const appsWithX = c.sentOf("app", { to: "b" }).filter((m) => m.entries.some((e) => e.index === 2));
  expect(appsWithX.length).toBe(1);
  expect(c.raft("a").status().progress.b.state).toBe("replicate");
});
