// Raft dissertation §9.6 (PreVote, leases against disruptive servers) and §6.2 (CheckQuorum).
import { describe, expect, test } from "bun:test";
import { Role } from "../../../src/raft/types";
import { TestCluster, enc } from "./harness";

const TICKS = 10;

function electedCluster(overrides = {}): TestCluster {
  const c = new TestCluster(["a", "b", "c"], { electionTicks: TICKS, ...overrides });
  c.elect("a");
  expect(c.raft("a").status()).toMatchObject({ role: Role.Leader, term: 1 });
  return c;
}

describe("PreVote", () => {
  test("a campaign starts with a pre-vote that changes neither term nor vote", () => {
    const c = new TestCluster(["a", "b", "c"]);
    c.raft("a").campaign();
    expect(c.raft("a").status()).toMatchObject({ role: Role.PreCandidate, term: 0, vote: "" });
    const rd = c.raft("a").ready();
    expect(rd.hardState).toBeNull();
    expect(rd.sendAfterPersist.map((m) => [m.type, m.to, m.term])).toEqual([
      ["preVote", "b", 1],
      ["preVote", "c", 1],
    ]);
  });

  test("a granted pre-vote leaves the voter's term and vote alone; the real election follows", () => {
    const c = new TestCluster(["a", "b", "c"]);
    c.raft("a").campaign();
    c.processReady("a");
    c.deliver();
    expect(c.raft("b").status()).toMatchObject({ term: 0, vote: "" });
    c.settle();
    expect(c.raft("a").status()).toMatchObject({ role: Role.Leader, term: 1 });
    expect(c.sentOf("preVoteResp").map((m) => [m.from, m.term, m.reject])).toEqual([
      ["b", 1, false],
      ["c", 1, false],
    ]);
  });

  test("a partitioned node keeps pre-campaigning without raising anyone's term", () => {
    const c = electedCluster();
    c.isolated.add("c");
    c.tick(["c"], 20 * TICKS);
    expect(c.sentOf("preVote", { from: "c" }).length).toBeGreaterThan(5);
    expect(c.sentOf("vote", { from: "c" })).toEqual([]);
    expect(c.raft("c").status()).toMatchObject({ term: 1, role: Role.PreCandidate });
    expect(c.node("c").storage.hardState().term).toBe(1);
  });

  test("a node that rejoins after a partition does not disrupt the leader", () => {
    const c = electedCluster();
    c.isolated.add("c");
    // Everyone's clock runs, c's included; only the network is cut.
    c.tick(["a", "b", "c"], 20 * TICKS);
    c.isolated.delete("c");
    c.tickAll(3 * TICKS);
    for (const id of ["a", "b", "c"]) expect(c.raft(id).status()).toMatchObject({ term: 1, leader: "a" });
    expect(c.raft("c").status().role).toBe(Role.Follower);
  });

  test("without PreVote the same rejoining node does disrupt the leader (the contrast)", () => {
    const c = electedCluster({ preVote: false, checkQuorum: false });
    c.isolated.add("c");
    // Everyone's clock runs, c's included; only the network is cut.
    c.tick(["a", "b", "c"], 20 * TICKS);
    const cTerm = c.raft("c").status().term;
    expect(cTerm).toBeGreaterThan(5);
    c.isolated.delete("c");
    c.tickAll(3 * TICKS);
    expect(c.raft("a").status().term).toBeGreaterThanOrEqual(cTerm);
  });

  test("followers that hear from a leader ignore pre-votes (lease)", () => {
    const c = electedCluster();
    c.raft("c").campaign();
    c.settle();
    // b and the leader a are in lease: they drop c's pre-vote without answering.
    expect(c.sentOf("preVote", { from: "c" }).length).toBe(2);
    expect(c.sentOf("preVoteResp", { to: "c" })).toEqual([]);
    expect(c.raft("b").status()).toMatchObject({ term: 1, leader: "a" });
    expect(c.raft("a").status()).toMatchObject({ role: Role.Leader, term: 1 });
    // The next heartbeat brings c back as a follower.
    c.tickAll();
    expect(c.raft("c").status()).toMatchObject({ role: Role.Follower, term: 1, leader: "a" });
  });

  test("once the leader is silent for an election timeout, pre-votes are granted and a new leader is elected", () => {
    const c = electedCluster();
    c.isolated.add("a");
    for (let i = 0; i < 4 * TICKS && c.leader() === null; i++) c.tick(["b", "c"]);
    const leader = c.leader();
    expect(leader === null ? null : leader.id).toMatch(/^[bc]$/);
    expect(leader?.raft.status().term).toBe(2);
    expect(c.sentOf("preVoteResp").filter((m) => !m.reject && m.term === 2).length).toBeGreaterThanOrEqual(1);
  });

  test("a pre-vote is refused to a candidate with a stale log", () => {
    const c = electedCluster({ random: () => 0.99 });
    c.isolated.add("c");
    c.raft("a").propose(enc("x"));
    c.settle();
    c.isolated.delete("c");
    c.isolated.add("a");
    // b has not heard from a for an election timeout: it is out of lease.
    c.tick(["b"], TICKS);
    expect(c.raft("b").status()).toMatchObject({ role: Role.Follower, leader: "a" });
    c.raft("c").campaign();
    c.settle();
    expect(c.sentOf("preVoteResp", { from: "b", to: "c" }).map((m) => m.reject)).toEqual([true]);
    expect(c.raft("b").status().term).toBe(1);
  });
});

describe("CheckQuorum", () => {
  // The leader checks every election timeout whether a quorum was heard from since the previous
  // check. Answers that arrive just after one check count for the next, so a leader cut off right
  // after a check steps down at the check after next: within two election timeouts.
  test("a leader cut off from the majority steps down at the first check with no quorum heard from", () => {
    const c = electedCluster();
    // One full check-quorum period with everybody reachable; the answers to the heartbeat sent
    // on the checking tick arrive after that check.
    c.tickAll(TICKS);
    expect(c.raft("a").status().role).toBe(Role.Leader);
    c.isolated.add("b").add("c");
    c.tick(["a"], TICKS);
    expect(c.raft("a").status().role).toBe(Role.Leader);
    c.tick(["a"], TICKS - 1);
    expect(c.raft("a").status().role).toBe(Role.Leader);
    c.tick(["a"], 1);
    expect(c.raft("a").status()).toMatchObject({ role: Role.Follower, term: 1, leader: null });
  });

  test("a freshly elected leader that is isolated at once steps down after two election timeouts", () => {
    const c = electedCluster();
    c.isolated.add("b").add("c");
    c.tick(["a"], 2 * TICKS - 1);
    expect(c.raft("a").status().role).toBe(Role.Leader);
    c.tick(["a"], 1);
    expect(c.raft("a").status()).toMatchObject({ role: Role.Follower, term: 1 });
  });

  test("a leader that loses only one voter of five stays leader", () => {
    const c = new TestCluster(["a", "b", "c", "d", "e"], { electionTicks: TICKS });
    c.elect("a");
    c.isolated.add("e");
    c.tick(["a", "b", "c", "d", "e"], 5 * TICKS);
    expect(c.raft("a").status()).toMatchObject({ role: Role.Leader, term: 1 });
  });

  test("a leader that hears from a quorum stays leader", () => {
    const c = new TestCluster(["a", "b", "c", "d", "e"], { electionTicks: TICKS });
    c.elect("a");
    c.isolated.add("d").add("e");
    c.tick(["a", "b", "c", "d", "e"], 10 * TICKS);
    expect(c.raft("a").status()).toMatchObject({ role: Role.Leader, term: 1 });
  });

  test("without CheckQuorum an isolated leader stays leader (the contrast)", () => {
    const c = electedCluster({ checkQuorum: false });
    c.isolated.add("b").add("c");
    c.tick(["a"], 10 * TICKS);
    expect(c.raft("a").status().role).toBe(Role.Leader);
  });
});
