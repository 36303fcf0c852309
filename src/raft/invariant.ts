/** An assertion on the core's own invariants: a failure is a bug, never a user error. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`raft invariant violated: ${message}`);
}
