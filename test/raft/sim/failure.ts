// How a run reports a broken invariant: which one, on what, and how to replay it.

/** Thrown inside a run when an invariant does not hold; the runner adds seed, trace and replay. */
export class InvariantViolation extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`${invariant}: ${detail}`);
    this.name = "InvariantViolation";
  }
}

export function violation(invariant: string, detail: string): never {
  throw new InvariantViolation(invariant, detail);
}

export interface SeedFailure {
  seed: number;
  invariant: string;
  message: string;
  trace: string[];
  replay: string;
}

export function replayCommand(seed: number): string {
  return `SEED=${seed} npx bun test test/raft/simulation.test.ts`;
}

export function formatFailure(f: SeedFailure): string {
  return [
    `seed ${f.seed} broke ${f.invariant}: ${f.message}`,
    `last events:`,
    ...f.trace,
    `replay: ${f.replay}`,
  ].join("\n");
}
