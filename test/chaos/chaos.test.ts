// A bounded chaos run in the test suite: about 60 s of workload on 3 real nodes behind
// fault-injecting proxies while the nemesis kills, pauses, partitions and restarts them; the
// history must be linearizable and every watcher must see every committed change once, in order.
// The seed is fixed unless CHAOS_SEED is set; a failure prints the seed, the smallest slice of
// the history that shows the violation, and where the whole history and the node logs are.
import { expect, test } from "bun:test";
import { formatReport } from "../../src/chaos/report";
import { DEFAULT_CHAOS_OPTIONS, runChaos } from "../../src/chaos/run";

const SEED = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : 20240601;
const DURATION_MS = process.env.CHAOS_DURATION_S ? Number(process.env.CHAOS_DURATION_S) * 1000 : 60_000;

test(
  "chaos: linearizable and watch-complete through kills, pauses, partitions and restarts",
  async () => {
    const result = await runChaos({
      ...DEFAULT_CHAOS_OPTIONS,
      seed: SEED,
      durationMs: DURATION_MS,
      nodes: 3,
      checkTimeoutMs: 60_000,
      // Compact the log often, so that nodes coming back from a kill catch up from a snapshot.
      nodeFlags: ["--snapshot-entries=150", "--retain-entries=40"],
      say: (line) => console.log(`chaos | ${line}`),
    });
    const report = formatReport(result);
    console.log(report);
    expect(result.setupProblems).toEqual([]);
    expect(result.watch.flatMap((w) => w.problems)).toEqual([]);
    expect(result.verdict.ok ? "ok" : result.verdict.explanation).toBe("ok");
    expect(result.passed).toBe(true);
  },
  DURATION_MS + 240_000,
);
