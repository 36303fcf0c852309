import type { NodeId } from "./types";

/** Votes needed among `voters` for a majority. */
export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The largest value that a majority of voters has reached: with values sorted descending, the
 * quorum-th one. Voters with no value count as 0.
 */
export function committedByQuorum(voters: NodeId[], valueOf: (id: NodeId) => number): number {
  if (voters.length === 0) return 0;
  const values = voters.map(valueOf).sort((a, b) => b - a);
  return values[quorumSize(voters.length) - 1];
}

export type VoteOutcome = "won" | "lost" | "pending";

/** Outcome of an election given granted and rejected votes among voters. */
export function voteOutcome(voters: NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteOutcome {
  let granted = 0;
  let rejected = 0;
  for (const v of voters) {
    const vote = votes.get(v);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const q = quorumSize(voters.length);
  if (granted >= q) return "won";
  if (rejected > voters.length - q) return "lost";
  return "pending";
}
