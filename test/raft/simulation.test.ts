// Deterministic simulation of the Raft core: many seeded clusters of 3 and 5 voters driven through
// message loss, duplication, delay and reordering, partitions (symmetric, one-way, leader
// isolation), crashes that lose unpersisted writes, restarts, leadership transfers, snapshots and
// membership changes, with safety invariants checked after every step and liveness after healing.
//
//   npx bun test test/raft/simulation.test.ts             1,000 seeds (SEEDS=N for another count)
//   SEED=123 npx bun test test/raft/simulation.test.ts    replay one seed (SIM_TRACE=all prints every event)
import { expect, test } from "bun:test";
import { formatCounters } from "./sim/counters";
import { formatFailure } from "./sim/failure";
import { runSeedsParallel, seedRange } from "./sim/run_seeds";
import { runSeed } from "./sim/simulation";

const env = process.env;
const traceSetting = env.SIM_TRACE ?? "";

if (env.SEED !== undefined) {
  const seed = Number(env.SEED);
  test(`simulation seed ${seed}`, () => {
    const out = runSeed(seed, {
      traceSize: traceSetting === "all" || traceSetting === "" ? 200 : Number(traceSetting),
      echoTrace: traceSetting === "all",
    });
    console.log(formatCounters(out.counters));
    if (!out.ok) throw new Error(formatFailure(out.failure));
  });
} else {
  const count = Number(env.SEEDS ?? 1000);
  const start = Number(env.SEED_START ?? 1);
  const workers = Number(env.SIM_WORKERS ?? Math.max(1, Math.min(2, navigator.hardwareConcurrency)));
  test(
    `simulation: ${count} seeds from ${start}`,
    async () => {
      const began = performance.now();
      const result = await runSeedsParallel(seedRange(start, count), {}, { workers, chunk: 25 });
      const seconds = ((performance.now() - began) / 1000).toFixed(1);
      console.log(`${count} seeds in ${seconds}s on ${workers} worker(s)\n${formatCounters(result.counters)}`);
      for (const f of result.failures.slice(0, 3)) console.log(formatFailure(f));
      if (result.failures.length > 0) {
        console.log(`failing seeds (${result.failures.length}):`);
        for (const f of result.failures) console.log(`  ${f.invariant}: ${f.replay}`);
      }
      expect(result.failures.map((f) => `${f.seed} ${f.invariant}`)).toEqual([]);
      // The runtime's early apply (entries an acknowledgement commits while a write is in flight).
      expect(result.counters.appliedDuringWrite).toBeGreaterThan(0);
      // The leader's early appends (entries sent to followers while its own write is in flight).
      expect(result.counters.appendsSentDuringWrite).toBeGreaterThan(0);
    },
    30 * 60_000,
  );
}
