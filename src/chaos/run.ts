// One chaos run: a cluster behind fault-injecting proxies, the workload and watchers running
// while the nemesis injects faults, then heal, converge, final reads, and the checks
// (linearizability of the history, watchers against the acknowledged writes).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkHistory, saveHistory, type Verdict } from "./linearizability";
import { ChaosCluster, sleep, type ChaosNode } from "./chaos_cluster";
import { Nemesis, type FaultKind } from "./nemesis";
import { Prng } from "./prng";
import { checkWatcher, type WatchCheckResult } from "./watch_check";
import { Watcher } from "./watchers";
import { Workload, type RecordedOp } from "./workload";

export interface ChaosOptions {
  seed: number;
  durationMs: number;
  nodes: number;
  clients: number;
  keys: number;
  watchers: number;
  callTimeoutMs: number;
  checkTimeoutMs: number;
  /** Extra node flags, e.g. ["--snapshot-entries=300"] so that lagging nodes catch up from snapshots. */
  nodeFlags: string[];
  /** Keep the data folder and node logs even when the run passes. */
  keepData: boolean;
  /** Progress lines (faults, phases). */
  say: (line: string) => void;
}

export const DEFAULT_CHAOS_OPTIONS: Omit<ChaosOptions, "seed" | "say"> = {
  durationMs: 60_000,
  nodes: 3,
  clients: 12,
  keys: 5,
  watchers: 3,
  callTimeoutMs: 3_000,
  checkTimeoutMs: 120_000,
  nodeFlags: [],
  keepData: false,
};

export interface ChaosResult {
  passed: boolean;
  seed: number;
  options: Omit<ChaosOptions, "say">;
  verdict: Verdict;
  opCounts: Map<string, number>;
  faults: Map<FaultKind, number>;
  faultLog: string[];
  watch: WatchCheckResult[];
  finalRevision: number;
  /** Problems outside the two checks (the cluster did not converge, a final read failed). */
  setupProblems: string[];
  /** Where the whole history was saved (failed runs only). */
  historyPath: string | null;
  /** Data folder with node logs (kept when the run failed or keepData). */
  dataDir: string | null;
  workloadMs: number;
  totalMs: number;
}

const PREFIX = "chaos/";

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const t0 = performance.now();
  const { say } = options;
  const prng = new Prng(options.seed);
  const nemesisPrng = prng.fork();
  const workloadPrng = prng.fork();
  const watcherPrng = prng.fork();
  const dir = await mkdtemp(join(tmpdir(), "rbkv-chaos-"));
  say(`seed ${options.seed}; ${options.nodes} nodes, ${options.clients} clients, ${options.keys} keys, ${options.durationMs / 1000} s${options.nodeFlags.length ? `, node flags ${options.nodeFlags.join(" ")}` : ""}; data in ${dir}`);
  const cc = await ChaosCluster.start(options.nodes, dir, options.nodeFlags);
  const setupProblems: string[] = [];
  const keys = Array.from({ length: options.keys }, (_, i) => `${PREFIX}k${i}`);
  const targets = () => cc.running();
  const workload = new Workload({ clients: options.clients, keys, callTimeoutMs: options.callTimeoutMs, targets, prng: workloadPrng });
  const watchers = Array.from(
    { length: options.watchers },
    (_, i) => new Watcher(`watcher${i + 1}`, { prefix: PREFIX, targets, prng: watcherPrng.fork(), idleMs: 4_000, maxStreamMs: 20_000 }),
  );
  let result: ChaosResult;
  try {
    for (const w of watchers) w.start();
    await sleep(300); // watchers connected before the first write (they start at revision 1 anyway)
    const nemesis = new Nemesis(cc, nemesisPrng, say);
    const workloadStart = performance.now();
    workload.start();
    await nemesis.run(workloadStart + options.durationMs);
    await workload.stop();
    const workloadMs = performance.now() - workloadStart;
    say(`workload done after ${(workloadMs / 1000).toFixed(1)} s: healing, waiting for the cluster to converge`);

    await nemesis.healAll();
    await converge(cc, setupProblems);
    const { finalState, finalRevision } = await finalReads(cc, workload, keys, setupProblems);
    await waitForWatchers(watchers, finalRevision);
    for (const w of watchers) await w.stop();

    say(`checking ${workload.history.length} ops (linearizability) and ${watchers.length} watchers up to revision ${finalRevision}`);
    const verdict = checkHistory(workload.history, { timeoutMs: options.checkTimeoutMs });
    const watch = watchers.map((w) => checkWatcher(w, workload.acked, finalRevision, finalState));
    const passed = verdict.ok && watch.every((w) => w.problems.length === 0) && setupProblems.length === 0;
    let historyPath: string | null = null;
    if (!passed) {
      historyPath = join(tmpdir(), `rbkv-chaos-seed${options.seed}-${Date.now()}.history.json`);
      saveHistory(historyPath, workload.history);
    }
    const { say: _say, ...plain } = options;
    result = {
      passed,
      seed: options.seed,
      options: plain,
      verdict,
      opCounts: workload.counts,
      faults: nemesis.counts,
      faultLog: nemesis.log,
      watch,
      finalRevision,
      setupProblems,
      historyPath,
      dataDir: passed && !options.keepData ? null : dir,
      workloadMs,
      totalMs: 0,
    };
  } catch (err) {
    say(`run aborted (seed ${options.seed}); node data and logs kept in ${dir}`);
    throw err;
  } finally {
    await Promise.all([workload.stop(), ...watchers.map((w) => w.stop())]);
    await cc.close();
  }
  // A failed run (or one that threw) keeps its data folder and node logs for diagnosis.
  if (result.dataDir === null) await rm(dir, { recursive: true, force: true });
  result.totalMs = performance.now() - t0;
  return result;
}

/** Every node running, one leader all agree on, every node applied up to the same index. */
async function converge(cc: ChaosCluster, problems: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = "";
  while (performance.now() < deadline) {
    const statuses = await Promise.all(cc.members.map((m) => m.cluster.status({}, { timeoutMs: 2000 }).catch(() => null)));
    const leaders = new Set(statuses.map((s) => s?.leaderId ?? ""));
    const applied = new Set(statuses.map((s) => s?.appliedIndex ?? -1n));
    last = statuses.map((s, i) => `${cc.members[i].node.spec.name}: ${s ? `${s.role} leader=${s.leaderId} applied=${s.appliedIndex} commit=${s.commitIndex}` : "no answer"}`).join("; ");
    if (statuses.every((s) => s !== null) && leaders.size === 1 && !leaders.has("") && applied.size === 1) return;
    await sleep(200);
  }
  problems.push(`cluster did not converge within ${timeoutMs} ms: ${last}`);
}

/** A linearizable read of every key (recorded in the history), retried across nodes. */
async function finalReads(
  cc: ChaosCluster,
  workload: Workload,
  keys: string[],
  problems: string[],
): Promise<{ finalState: Map<string, string | null>; finalRevision: number }> {
  const finalState = new Map<string, string | null>();
  let finalRevision = 0;
  for (const key of keys) {
    let op: RecordedOp | null = null;
    for (let attempt = 0; attempt < 30 && !op; attempt++) {
      const m: ChaosNode = cc.members[attempt % cc.members.length];
      op = await workload.get("final", m, key);
      if (!op) await sleep(200);
    }
    if (!op || op.op !== "get") {
      problems.push(`final read of ${key} failed on every node`);
      continue;
    }
    finalState.set(key, op.result);
    finalRevision = Math.max(finalRevision, op.revision ?? 0);
  }
  return { finalState, finalRevision };
}

async function waitForWatchers(watchers: Watcher[], finalRevision: number, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && watchers.some((w) => w.lastRevision < finalRevision)) await sleep(100);
}
