// Raft dissertation §3.10 (leadership transfer) and persistence across restarts (§3.8).
import { describe, expect, test } from "bun:test";
import { Role, type ConfChange } from "../../../src/raft/types";
import { TestCluster, enc, ofType } from "./harness";

const TICKS = 10;

function elected(): TestCluster {
  const c = new TestCluster(["a", "b", "c"], { electionTicks: TICKS });
  c.elect("a");
  c.raft("a").propose(enc("x"));
  c.settle();
  return c;
}

describe("leadership transfer", () => {
  test("a caught-up target gets timeoutNow and wins at once, without pre-vote, though the others are in lease", () => {
    const c = elected();
    expect(c.raft("a").transferLeadership("b")).toBe(true);
    const rd = c.processReady("a", true);
    expect(rd?.sendNow.filter(ofType("timeoutNow"))).toEqual([{ type: "timeoutNow", from: "a", to: "b", term: 1 }]);
    c.settle();
    expect(c.raft("b").status()).toMatchObject({ role: Role.Leader, term: 2 });
    expect(c.raft("a").status()).toMatchObject({ role: Role.Follower, term: 2, leader: "b" });
    expect(c.sentOf("preVote", { from: "b" })).toEqual([]);
    expect(c.sentOf("vote", { from: "b" }).map((m) => [m.to, m.transfer])).toEqual([
      ["a", true],
      ["c", true],
    ]);
    expect(c.sentOf("voteResp", { from: "c", to: "b" }).map((m) => [m.term, m.reject])).toEqual([[2, false]]);
  });

  test("proposals are refused while a transfer is under way", () => {
    const c = elected();
    c.isolated.add("b");
    c.raft("a").transferLeadership("b");
    expect(c.raft("a").status().transferee).toBe("b");
    expect(c.raft("a").propose(enc("y"))).toEqual({ ok: false, reason: "transferring", leader: "a" });
  });

  test("a lagging target is caught up first, then told to time out", () => {
    const c = elected();
    c.isolated.add("c");
    for (let i = 0; i < 5; i++) c.raft("a").propose(enc(`y${i}`));
    c.settle();
    c.isolated.delete("c");
    expect(c.raft("c").status().lastIndex).toBe(2);
    c.raft("a").transferLeadership("c");
    c.processReady("a", true);
    expect(c.sentOf("timeoutNow")).toEqual([]);
    for (let i = 0; i < TICKS && c.raft("c").status().role !== Role.Leader; i++) c.tickAll();
    expect(c.raft("c").status()).toMatchObject({ role: Role.Leader, term: 2 });
    expect(c.sentOf("timeoutNow").length).toBe(1);
    // When timeoutNow left, c had acknowledged all of a's log.
    const tn = c.sent.indexOf(c.sentOf("timeoutNow")[0]);
    const acks = c.sent.slice(0, tn).filter((m) => m.type === "appResp" && m.from === "c" && !m.reject);
    expect(acks[acks.length - 1]).toMatchObject({ index: 7 });
    expect(c.appliedData("c")).toEqual(["x", "y0", "y1", "y2", "y3", "y4"]);
  });

  test("a transfer that cannot finish is abandoned after an election timeout", () => {
    const c = elected();
    c.isolated.add("b");
    c.raft("a").transferLeadership("b");
    c.tick(["a"], TICKS - 1);
    expect(c.raft("a").status()).toMatchObject({ role: Role.Leader, transferee: "b" });
    c.tick(["a"], 1);
    expect(c.raft("a").status()).toMatchObject({ role: Role.Leader, transferee: null });
    expect(c.raft("a").propose(enc("y")).ok).toBe(true);
  });

  test("a transfer to a non-voter or to itself is refused", () => {
    const c = elected();
    expect(c.raft("a").transferLeadership("a")).toBe(false);
    expect(c.raft("a").transferLeadership("z")).toBe(false);
    expect(c.raft("b").transferLeadership("c")).toBe(false);
  });
});

describe("restart", () => {
  test("a node rebuilt from its storage keeps term, vote, log, commit and configuration", () => {
    const c = elected();
    const learner: ConfChange = { kind: "addLearner", node: "d", context: new Uint8Array() };
    c.addEmptyNode("d");
    c.raft("a").proposeConfChange(learner);
    c.settle();
    c.raft("a").propose(enc("y"));
    c.settle();
    c.tickAll(1);
    const before = c.raft("b").status();
    expect(before).toMatchObject({ term: 1, vote: "a", commit: 4, lastIndex: 4 });
    const b = c.restart("b");
    expect(b.config.applied).toBe(4);
    expect(b.raft.status()).toMatchObject({
      role: Role.Follower,
      term: 1,
      vote: "a",
      commit: 4,
      lastIndex: 4,
      leader: null,
      conf: { voters: ["a", "b", "c"], learners: ["d"] },
    });
    // Nothing is applied twice.
    expect(b.raft.hasReady()).toBe(false);
    c.raft("a").propose(enc("z"));
    c.settle();
    c.tickAll(1);
    expect(c.appliedData("b")).toEqual(["x", "y", "z"]);
    expect(c.node("b").applied.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
  });

  test("entries after the applied index are applied again after a restart, exactly once", () => {
    const c = elected();
    for (const v of ["p", "q"]) c.raft("a").propose(enc(v));
    c.settle();
    c.tickAll(1);
    const n = c.node("c");
    expect(n.applied.map((e) => e.index)).toEqual([1, 2, 3, 4]);
    // The state machine had durably applied only up to 2 when c crashed.
    n.applied = n.applied.slice(0, 2);
    const c2 = c.restart("c");
    expect(c2.config.applied).toBe(2);
    c.settle();
    expect(c.appliedData("c")).toEqual(["x", "p", "q"]);
    expect(c.node("c").applied.map((e) => e.index)).toEqual([1, 2, 3, 4]);
  });

  test("a restarted voter that already voted in this term does not vote again", () => {
    const c = new TestCluster(["a", "b", "c"], { preVote: false, checkQuorum: false });
    c.raft("b").step({ type: "vote", from: "a", to: "b", term: 1, lastIndex: 0, lastTerm: 0, transfer: false });
    c.processReady("b");
    c.inbox = [];
    const b = c.restart("b");
    b.raft.step({ type: "vote", from: "c", to: "b", term: 1, lastIndex: 0, lastTerm: 0, transfer: false });
    const rd = b.raft.ready();
    expect(rd.sendAfterPersist).toEqual([{ type: "voteResp", from: "b", to: "c", term: 1, reject: true }]);
    expect(b.raft.status().vote).toBe("a");
  });

  test("a leader that restarts comes back as a follower of the same term", () => {
    const c = elected();
    const a = c.restart("a");
    expect(a.raft.status()).toMatchObject({ role: Role.Follower, term: 1, vote: "a", commit: 2, lastIndex: 2 });
    for (let i = 0; i < 5 * TICKS && c.leader() === null; i++) c.tickAll();
    expect(c.leader()?.raft.status().term).toBe(2);
    expect(c.appliedData("a")).toEqual(["x"]);
  });
});
