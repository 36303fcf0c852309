import { expect, test } from "bun:test";
import { Role } from "../../../src/raft/types";
import { TestCluster, enc } from "./harness";

test("three nodes elect a leader and replicate a proposal", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  expect(c.node("a").raft.status().role).toBe(Role.Leader);
  const r = c.node("a").raft.propose(enc("x"));
  expect(r.ok).toBe(true);
  c.settle();
  c.tickAll(2);
  for (const id of ["a", "b", "c"]) expect(c.appliedData(id)).toEqual(["x"]);
});
