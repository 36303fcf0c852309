// Raft dissertation chapter 4: single-server membership changes, learners.
import { describe, expect, test } from "bun:test";
import { EntryType, Role, type ConfChange } from "../../../src/raft/types";
import { TestCluster, enc, ofType } from "./harness";

const cc = (kind: ConfChange["kind"], node: string): ConfChange => ({ kind, node, context: enc(`addr-${node}`) });

function elected(ids = ["a", "b", "c"], overrides = {}): TestCluster {
  const c = new TestCluster(ids, overrides);
  c.elect("a");
  expect(c.raft("a").status().role).toBe(Role.Leader);
  return c;
}

describe("learners", () => {
  test("an added learner receives the whole log", () => {
    const c = elected();
    c.raft("a").propose(enc("x"));
    c.settle();
    c.addEmptyNode("d");
    expect(c.raft("a").proposeConfChange(cc("addLearner", "d"))).toEqual({ ok: true, index: 3, term: 1 });
    c.settle();
    c.tickAll(2);
    expect(c.logTerms("d")).toEqual([1, 1, 1]);
    expect(c.appliedData("d")).toEqual(["x"]);
    expect(c.raft("d").status().conf).toEqual({ voters: ["a", "b", "c"], learners: ["d"] });
    expect(c.node("d").applied[2].type).toBe(EntryType.ConfChange);
  });

  test("a learner never campaigns, and its vote is not counted", () => {
    const c = elected();
    c.addEmptyNode("d");
    c.raft("a").proposeConfChange(cc("addLearner", "d"));
    c.settle();
    c.tickAll(2);
    expect(c.raft("d").status().conf.learners).toEqual(["d"]);
    c.isolated.add("a");
    c.tick(["d"], 100);
    expect(c.raft("d").status()).toMatchObject({ role: Role.Follower, term: 1 });
    expect(c.sentOf("preVote", { from: "d" })).toEqual([]);
    // b campaigns; c refuses (b's election needs c, the learner's grant does not help).
    c.isolated.add("c");
    c.raft("b").campaign(false, false);
    c.settle();
    expect(c.raft("b").status().role).toBe(Role.Candidate);
    expect(c.sentOf("vote", { from: "b" }).map((m) => m.to)).toEqual(["a", "c"]);
  });

  test("a learner's acknowledgement does not count towards the commit quorum", () => {
    const c = elected();
    c.addEmptyNode("d");
    c.raft("a").proposeConfChange(cc("addLearner", "d"));
    c.settle();
    c.isolated.add("b").add("c");
    c.raft("a").propose(enc("y"));
    c.settle();
    expect(c.raft("a").status().progress.d.match).toBe(3);
    expect(c.raft("a").status().commit).toBe(2);
  });

  test("a promoted learner votes and counts in the quorum", () => {
    const c = elected();
    c.addEmptyNode("d");
    c.raft("a").proposeConfChange(cc("addLearner", "d"));
    c.settle();
    expect(c.raft("a").proposeConfChange(cc("promote", "d")).ok).toBe(true);
    c.settle();
    expect(c.raft("d").status().conf).toEqual({ voters: ["a", "b", "c", "d"], learners: [] });
    // 4 voters: a and d are not a quorum, a, b and d are.
    c.isolated.add("b").add("c");
    c.raft("a").propose(enc("y"));
    c.settle();
    expect(c.raft("a").status().commit).toBe(3);
    c.isolated.delete("b");
    c.tickAll(5);
    expect(c.raft("a").status().commit).toBe(4);
    // d can now campaign.
    c.isolated.add("a");
    for (let i = 0; i < 60 && c.leader() === null; i++) c.tick(["b", "d"]);
    expect(c.sentOf("preVote", { from: "d" }).length + c.sentOf("preVote", { from: "b" }).length).toBeGreaterThan(0);
  });
});

describe("voters", () => {
  test("adding a voter grows the quorum", () => {
    const c = elected();
    c.addEmptyNode("d");
    c.raft("a").proposeConfChange(cc("addVoter", "d"));
    c.settle();
    expect(c.raft("a").status().conf.voters).toEqual(["a", "b", "c", "d"]);
    c.isolated.add("c").add("d");
    c.raft("a").propose(enc("y"));
    c.settle();
    // a and b are 2 of 4.
    expect(c.raft("a").status().commit).toBe(2);
  });

  test("removing voters shrinks the quorum", () => {
    const c = elected(["a", "b", "c", "d", "e"]);
    c.isolated.add("c").add("d").add("e");
    c.raft("a").propose(enc("before"));
    c.settle();
    expect(c.raft("a").status().commit).toBe(1); // a and b are 2 of 5
    c.isolated.clear();
    c.tickAll(5);
    c.raft("a").proposeConfChange(cc("remove", "e"));
    c.settle();
    c.raft("a").proposeConfChange(cc("remove", "d"));
    c.settle();
    expect(c.raft("a").status().conf.voters).toEqual(["a", "b", "c"]);
    c.isolated.add("c").add("d").add("e");
    c.raft("a").propose(enc("after"));
    c.settle();
    // a and b are 2 of 3.
    expect(c.raft("a").status().commit).toBe(5);
    expect(c.raft("a").status().progress.e).toBeUndefined();
  });

  test("only one membership change may be uncommitted at a time", () => {
    const c = elected();
    c.addEmptyNode("d");
    c.addEmptyNode("e");
    expect(c.raft("a").proposeConfChange(cc("addLearner", "d")).ok).toBe(true);
    expect(c.raft("a").proposeConfChange(cc("addLearner", "e"))).toEqual({ ok: false, reason: "conf-change-pending", leader: "a" });
    c.settle();
    expect(c.raft("a").proposeConfChange(cc("addLearner", "e")).ok).toBe(true);
  });

  test("a change that makes no sense is refused", () => {
    const c = elected();
    expect(c.raft("a").proposeConfChange(cc("addVoter", "b"))).toMatchObject({ ok: false, reason: "invalid-conf-change" });
    expect(c.raft("a").proposeConfChange(cc("promote", "z"))).toMatchObject({ ok: false, reason: "invalid-conf-change" });
    expect(c.raft("b").proposeConfChange(cc("addLearner", "z"))).toEqual({ ok: false, reason: "not-leader", leader: "a" });
  });

  // BUG (src/raft/raft.ts becomeLeader): pendingConfIndex is set to the last index *before* the
  // no-op, so a new leader whose log is fully committed may append a membership change before any
  // entry of its own term commits. The dissertation's correction to single-server changes (Ongaro,
  // raft-dev 2015, "bug in single-server membership changes") requires the leader to commit an
  // entry of its current term first; otherwise a change it appends can be committed and later
  // overwritten by a leader elected under an older, concurrent configuration.
  // Fix: pendingConfIndex = index of the no-op (i.e. set it after appendOwn).
  test("a new leader cannot change the membership before its no-op commits", () => {
    const c = elected(["a", "b", "c"], { checkQuorum: false });
    c.raft("a").propose(enc("x"));
    c.settle();
    c.tickAll(1);
    expect(c.raft("b").status().commit).toBe(2); // b knows everything in its log is committed
    c.raft("b").campaign(false, false);
    c.processReady("b");
    c.deliver(ofType("vote"));
    c.processReady("a");
    c.processReady("c");
    c.deliver(ofType("voteResp"));
    expect(c.raft("b").status()).toMatchObject({ role: Role.Leader, term: 2, commit: 2, lastIndex: 3 });
    c.addEmptyNode("d");
    expect(c.raft("b").proposeConfChange(cc("addLearner", "d"))).toMatchObject({ ok: false, reason: "conf-change-pending" });
    c.settle();
    expect(c.raft("b").proposeConfChange(cc("addLearner", "d")).ok).toBe(true);
  });
});

describe("when a configuration takes effect", () => {
  test("a configuration is in force as soon as its entry is in the log, before it commits", () => {
    const c = elected();
    c.isolated.add("c");
    c.addEmptyNode("d");
    c.raft("a").proposeConfChange(cc("remove", "c"));
    expect(c.raft("a").status().conf.voters).toEqual(["a", "b"]);
    c.processReady("a");
    c.deliver();
    expect(c.raft("b").status().commit).toBe(1);
    expect(c.raft("b").status().conf.voters).toEqual(["a", "b"]);
  });

  test("a follower's configuration rolls back when the entry carrying it is overwritten", () => {
    const c = elected(["a", "b", "c", "d", "e"], { preVote: false, checkQuorum: false });
    c.isolated.add("c").add("d").add("e");
    c.raft("a").proposeConfChange(cc("remove", "e"));
    c.settle();
    expect(c.raft("b").status().conf.voters).toEqual(["a", "b", "c", "d"]);
    expect(c.raft("b").status().commit).toBe(1);
    // a dies; c wins with d and e and overwrites index 2 on b.
    c.isolated.clear();
    c.isolated.add("a");
    c.dropIf.push((m) => m.type === "vote" && m.to === "b");
    c.elect("c");
    c.dropIf = [];
    expect(c.raft("c").status()).toMatchObject({ role: Role.Leader, term: 2 });
    c.tickAll(2);
    expect(c.logTerms("b")).toEqual([1, 2]);
    expect(c.raft("b").status().conf.voters).toEqual(["a", "b", "c", "d", "e"]);
  });
});

describe("removing the leader", () => {
  test("a leader that removes itself leads until the removal commits, then steps down and never campaigns", () => {
    const c = elected();
    c.raft("a").proposeConfChange(cc("remove", "a"));
    expect(c.raft("a").status().role).toBe(Role.Leader);
    // The leader does not count itself in the new configuration: b and c must acknowledge.
    c.processReady("a");
    expect(c.raft("a").status()).toMatchObject({ role: Role.Leader, commit: 1 });
    c.settle();
    expect(c.raft("a").status()).toMatchObject({ role: Role.Follower, leader: null });
    expect(c.raft("a").status().conf.voters).toEqual(["b", "c"]);
    const sentBefore = c.sent.length;
    for (let i = 0; i < 60 && c.leader() === null; i++) c.tickAll();
    expect(c.leader()?.id).toMatch(/^[bc]$/);
    c.tickAll(50);
    const fromA = c.sent.slice(sentBefore).filter((m) => m.from === "a" && (m.type === "vote" || m.type === "preVote"));
    expect(fromA).toEqual([]);
    expect(c.raft("a").status().role).toBe(Role.Follower);
  });
});
