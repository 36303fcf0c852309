// Soak run of the Raft simulation over many seeds, on all cores:
//   npx bun test/raft/soak.ts --seeds 100000 [--start 1] [--workers 2] [--chunk 50]
// Prints progress, the totals (faults injected per kind) and every failure with its replay command.
import { formatCounters } from "./sim/counters";
import { formatFailure } from "./sim/failure";
import { runSeedsParallel, seedRange } from "./sim/run_seeds";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value)) throw new Error(`--${name} needs a number`);
  return value;
}

const seeds = flag("seeds", 10_000);
const start = flag("start", 1);
const workers = flag("workers", Math.max(1, navigator.hardwareConcurrency));
const chunk = flag("chunk", 50);

const began = performance.now();
let lastPrint = 0;
let printedFailures = 0;
console.log(`soak: seeds ${start}..${start + seeds - 1} on ${workers} worker(s)`);
const result = await runSeedsParallel(seedRange(start, seeds), {}, {
  workers,
  chunk,
  onProgress: (done, total, sofar) => {
    for (; printedFailures < sofar.failures.length; printedFailures++) {
      const f = sofar.failures[printedFailures];
      console.log(`FAIL seed ${f.seed} ${f.invariant}: ${f.replay}`);
    }
    const now = performance.now();
    if (now - lastPrint < 10_000 && done < total) return;
    lastPrint = now;
    const secs = (now - began) / 1000;
    console.log(
      `${done}/${total} seeds, ${secs.toFixed(0)}s (${(done / secs).toFixed(1)} seeds/s), ` +
        `${sofar.counters.steps} steps, ${sofar.failures.length} failures`,
    );
  },
});
const secs = (performance.now() - began) / 1000;
console.log(`\nsoak done: ${seeds} seeds in ${secs.toFixed(1)}s\n${formatCounters(result.counters)}`);
if (result.failures.length > 0) {
  console.log(`\n${result.failures.length} failing seeds; first one in full:\n${formatFailure(result.failures[0])}`);
  const byInvariant = new Map<string, number[]>();
  for (const f of result.failures) byInvariant.set(f.invariant, [...(byInvariant.get(f.invariant) ?? []), f.seed]);
  for (const [inv, list] of byInvariant) console.log(`  ${inv}: ${list.length} seeds, e.g. SEED=${list[0]} npx bun test test/raft/simulation.test.ts`);
  process.exit(1);
}
