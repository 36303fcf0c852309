// Raft paper §5.2 (leader election) and §5.4.1 (election restriction), rule by rule.
import { describe, expect, test } from "bun:test";
import { Role } from "../../../src/raft/types";
import { TestCluster, from, ofType, seededRandom, to, voteMsg } from "./harness";

const NO_PREVOTE = { preVote: false, checkQuorum: false };

/** Ticks `id` alone (no delivery) until it leaves the follower role; returns the number of ticks. */
function ticksUntilCampaign(c: TestCluster, id: string, limit = 1000): number {
  for (let i = 1; i <= limit; i++) {
    c.raft(id).tick();
    if (c.raft(id).status().role !== Role.Follower) return i;
  }
  throw new Error("never campaigned");
}

describe("election timeout", () => {
  test("a follower that hears nothing campaigns after exactly n ticks when the random draw is 0", () => {
    const c = new TestCluster(["a", "b", "c"], { ...NO_PREVOTE, electionTicks: 10, random: () => 0 });
    expect(ticksUntilCampaign(c, "a")).toBe(10);
    expect(c.raft("a").status()).toMatchObject({ role: Role.Candidate, term: 1, vote: "a" });
  });

  test("the randomized timeout is at most 2n - 1 ticks", () => {
    const c = new TestCluster(["a", "b", "c"], { ...NO_PREVOTE, electionTicks: 10, random: () => 0.9999 });
    expect(ticksUntilCampaign(c, "a")).toBe(19);
  });

  test("timeouts drawn from the random source spread over [n, 2n)", () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 60; seed++) {
      const c = new TestCluster(["a", "b", "c"], { ...NO_PREVOTE, electionTicks: 10, random: seededRandom(seed) });
      const t = ticksUntilCampaign(c, "a");
      expect(t).toBeGreaterThanOrEqual(10);
      expect(t).toBeLessThan(20);
      seen.add(t);
    }
    expect(seen.size).toBeGreaterThanOrEqual(6);
  });

  test("a candidate whose election times out starts a new one in the next term", () => {
    const c = new TestCluster(["a", "b", "c"], { ...NO_PREVOTE, random: () => 0 });
    c.isolated.add("a");
    c.tick(["a"], 10);
    expect(c.raft("a").status()).toMatchObject({ role: Role.Candidate, term: 1 });
    c.tick(["a"], 10);
    expect(c.raft("a").status()).toMatchObject({ role: Role.Candidate, term: 2, vote: "a" });
  });
});

describe("requesting votes", () => {
  test("a candidate persists term and self-vote in the Ready's hardState, and sends vote requests only after persisting", () => {
    const c = new TestCluster(["a", "b", "c"], NO_PREVOTE);
    c.raft("a").campaign();
    const rd = c.raft("a").ready();
    expect(rd.hardState).toEqual({ term: 1, vote: "a", commit: 0 });
    expect(rd.sendNow).toEqual([]);
    expect(rd.sendAfterPersist.map((m) => [m.type, m.to, m.term])).toEqual([
      ["vote", "b", 1],
      ["vote", "c", 1],
    ]);
    expect(rd.sendAfterPersist[0]).toMatchObject({ lastIndex: 0, lastTerm: 0, transfer: false });
  });

  test("a voter persists its vote before the grant leaves", () => {
    const c = new TestCluster(["a", "b", "c"], NO_PREVOTE);
    c.raft("b").step(voteMsg("vote", "a", "b", 1, 0, 0));
    const rd = c.raft("b").ready();
    expect(rd.hardState).toEqual({ term: 1, vote: "a", commit: 0 });
    expect(rd.sendNow).toEqual([]);
    expect(rd.sendAfterPersist).toEqual([{ type: "voteResp", from: "b", to: "a", term: 1, reject: false }]);
  });

  test("a candidate with votes from a majority becomes leader", () => {
    const c = new TestCluster(["a", "b", "c", "d", "e"], NO_PREVOTE);
    c.isolated.add("d").add("e");
    c.elect("a");
    expect(c.raft("a").status()).toMatchObject({ role: Role.Leader, term: 1, leader: "a" });
    expect(c.raft("b").status()).toMatchObject({ role: Role.Follower, term: 1, leader: "a", vote: "a" });
  });

  test("a candidate with votes from only a minority stays candidate", () => {
    const c = new TestCluster(["a", "b", "c", "d", "e"], NO_PREVOTE);
    c.isolated.add("c").add("d").add("e");
    c.elect("a");
    expect(c.raft("a").status()).toMatchObject({ role: Role.Candidate, term: 1 });
  });

  test("a candidate rejected by a majority returns to follower", () => {
    // b and c have a longer log from term 1: they reject a's empty log.
    const c = new TestCluster(["a", "b", "c"], NO_PREVOTE, undefined, { logs: { b: [1], c: [1] } });
    c.elect("a");
    expect(c.raft("a").status()).toMatchObject({ role: Role.Follower, term: 1, leader: null });
    expect(c.sentOf("voteResp", { to: "a" }).map((m) => m.reject)).toEqual([true, true]);
  });
});

describe("granting votes", () => {
  test("a node grants at most one vote per term (first come, first served)", () => {
    const c = new TestCluster(["a", "b", "c"], NO_PREVOTE);
    const b = c.raft("b");
    b.step(voteMsg("vote", "a", "b", 1, 0, 0));
    b.step(voteMsg("vote", "c", "b", 1, 0, 0));
    // A repeated request from the candidate it voted for is granted again (idempotent).
    b.step(voteMsg("vote", "a", "b", 1, 0, 0));
    const rd = b.ready();
    expect(rd.sendAfterPersist.map((m) => [m.to, (m as { reject: boolean }).reject])).toEqual([
      ["a", false],
      ["c", true],
      ["a", false],
    ]);
    expect(b.status().vote).toBe("a");
  });

  test("a vote in a new term is free again", () => {
    const c = new TestCluster(["a", "b", "c"], NO_PREVOTE);
    const b = c.raft("b");
    b.step(voteMsg("vote", "a", "b", 1, 0, 0));
    b.step(voteMsg("vote", "c", "b", 2, 0, 0));
    expect(b.status()).toMatchObject({ term: 2, vote: "c" });
  });

  // The voter's log ends with index 3 at term 2.
  const cases: [string, number, number, boolean][] = [
    ["higher last term, shorter log", 1, 3, true],
    ["same last term, longer log", 4, 2, true],
    ["same last term, same length", 3, 2, true],
    ["same last term, shorter log", 2, 2, false],
    ["lower last term, longer log", 10, 1, false],
  ];
  for (const [name, lastIndex, lastTerm, granted] of cases) {
    test(`up-to-date check: candidate with ${name} is ${granted ? "granted" : "rejected"}`, () => {
      const c = new TestCluster(["a", "b", "c"], NO_PREVOTE, undefined, { logs: { b: [1, 2, 2] } });
      const b = c.raft("b");
      b.step(voteMsg("vote", "a", "b", 5, lastIndex, lastTerm));
      const resp = b.ready().sendAfterPersist;
      expect(resp).toEqual([{ type: "voteResp", from: "b", to: "a", term: 5, reject: !granted }]);
      expect(b.status().vote).toBe(granted ? "a" : "");
    });
  }
});

describe("terms", () => {
  test("a leader that sees a higher term steps down and adopts it", () => {
    const c = new TestCluster(["a", "b", "c"], NO_PREVOTE);
    c.elect("a");
    c.raft("a").step({ type: "appResp", from: "b", to: "a", term: 7, reject: false, index: 0, hintIndex: 0, hintTerm: 0 });
    expect(c.raft("a").status()).toMatchObject({ role: Role.Follower, term: 7, vote: "", leader: null });
    expect(c.raft("a").ready().hardState).toMatchObject({ term: 7, vote: "" });
  });

  test("a follower adopts a higher term from a vote request even when it rejects the vote", () => {
    const c = new TestCluster(["a", "b", "c"], NO_PREVOTE, undefined, { logs: { b: [3, 3] } });
    c.raft("b").step(voteMsg("vote", "a", "b", 9, 0, 0));
    expect(c.raft("b").status()).toMatchObject({ term: 9, vote: "" });
  });

  test("a node ignores appends from a stale leader and answers with its own term", () => {
    const c = new TestCluster(["a", "b", "c"], NO_PREVOTE, undefined, { hardStates: { b: { term: 5 } } });
    c.raft("b").step({ type: "app", from: "a", to: "b", term: 3, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 });
    expect(c.raft("b").status()).toMatchObject({ term: 5, leader: null });
    const out = c.raft("b").ready().sendAfterPersist;
    expect(out.map((m) => [m.type, m.term])).toEqual([["appResp", 5]]);
  });

  test("a candidate steps down when a leader of its own term appends", () => {
    const c = new TestCluster(["a", "b", "c"], NO_PREVOTE);
    c.raft("a").campaign();
    c.raft("b").campaign();
    c.processReady("a");
    c.processReady("b");
    // Only b's request reaches c; a's requests are lost.
    c.take(from("a"));
    c.settle();
    expect(c.raft("b").status()).toMatchObject({ role: Role.Leader, term: 1 });
    expect(c.raft("a").status()).toMatchObject({ role: Role.Follower, term: 1, leader: "b", vote: "a" });
  });
});

test("a split vote leads to a new election in a higher term", () => {
  const c = new TestCluster(["a", "b", "c", "d"], NO_PREVOTE);
  c.raft("a").campaign();
  c.raft("b").campaign();
  c.processReady("a");
  c.processReady("b");
  // c hears a first, d hears b first: 2 votes each out of 4, nobody has a majority.
  c.deliver((m) => (m.from === "a" && m.to === "c") || (m.from === "b" && m.to === "d"));
  c.settle();
  // Each got 2 grants and 2 rejections: neither can win term 1 any more.
  expect(c.sentOf("voteResp", { to: "a" }).filter((m) => !m.reject).map((m) => m.from)).toEqual(["c"]);
  expect(c.sentOf("voteResp", { to: "b" }).filter((m) => !m.reject).map((m) => m.from)).toEqual(["d"]);
  expect(c.raft("a").status()).toMatchObject({ role: Role.Follower, term: 1, vote: "a", leader: null });
  expect(c.raft("b").status()).toMatchObject({ role: Role.Follower, term: 1, vote: "b", leader: null });
  expect(c.leader()).toBeNull();
  for (let i = 0; i < 40 && c.leader() === null; i++) c.tickAll();
  const leader = c.leader();
  expect(leader).not.toBeNull();
  expect(leader?.raft.status().term).toBe(2);
  expect(c.sentOf("vote").filter((m) => m.term === 2).length).toBeGreaterThan(0);
});

test("vote requests are not sent as 'sendNow' even by a node that was leader", () => {
  const c = new TestCluster(["a", "b", "c"], NO_PREVOTE);
  c.elect("a");
  c.raft("a").step({ type: "heartbeatResp", from: "b", to: "a", term: 2, readSeq: 0 });
  c.processReady("a");
  c.raft("a").campaign();
  const rd = c.raft("a").ready();
  expect(rd.sendNow.filter(ofType("vote"))).toEqual([]);
  expect(rd.sendAfterPersist.filter(ofType("vote")).map((m) => m.to)).toEqual(["b", "c"]);
  expect(rd.hardState).toMatchObject({ term: 3, vote: "a" });
  void to;
});

test("a vote request from a lower term is answered with a rejection carrying the higher term (paper §5.1)", () => {
  // Without PreVote a candidate that never hears the higher term could campaign forever below it.
  const c = new TestCluster(["a", "b"], { preVote: false, checkQuorum: false });
  c.isolated.add("b");
  for (let i = 0; i < 3; i++) c.node("b").raft.campaign();
  c.settle();
  c.isolated.delete("b");
  expect(c.node("b").raft.status().term).toBe(3);
  c.node("a").raft.campaign();
  c.settle();
  expect(c.node("a").raft.status().term).toBe(3);
  expect(c.node("a").raft.status().role).toBe(Role.Follower);
  c.node("a").raft.campaign();
  c.settle();
  expect(c.node("a").raft.status().role).toBe(Role.Leader);
  expect(c.node("a").raft.status().term).toBe(4);
});
