// The printed summary of a chaos run: ops by kind and outcome, faults per kind, watch events
// checked, the verdict, and on failure the explanation, the seed and where the history is.
import { formatOp } from "./history";
import { FAULT_KINDS } from "./nemesis";
import type { RecordedOp } from "./workload";
import type { ChaosResult } from "./run";

const OP_KINDS = ["get", "put", "delete", "cas"] as const;

export function formatReport(r: ChaosResult): string {
  const lines: string[] = [];
  const o = r.options;
  lines.push(`chaos run: seed ${r.seed}, ${o.nodes} nodes, ${o.clients} clients, ${o.keys} keys, workload ${(r.workloadMs / 1000).toFixed(1)} s, total ${(r.totalMs / 1000).toFixed(1)} s`);

  lines.push("ops (ok / indeterminate / failed reads dropped / writes refused at connect, not sent):");
  let total = 0;
  for (const kind of OP_KINDS) {
    const ok = r.opCounts.get(`${kind} ok`) ?? 0;
    const ind = r.opCounts.get(`${kind} indeterminate`) ?? 0;
    const dropped = r.opCounts.get(`${kind} dropped`) ?? 0;
    const refused = r.opCounts.get(`${kind} refused`) ?? 0;
    total += ok + ind + dropped + refused;
    const col = (n: number, w: number) => String(n).padStart(w);
    lines.push(`  ${kind.padEnd(7)} ${col(ok, 7)} ok ${col(ind, 6)} indeterminate ${col(dropped, 6)} dropped ${col(refused, 6)} refused`);
  }
  lines.push(`  total   ${total} (${(total / (r.workloadMs / 1000)).toFixed(0)} ops/s), final revision ${r.finalRevision}`);

  const faultTotal = [...r.faults.values()].reduce((a, b) => a + b, 0);
  lines.push(`faults injected: ${faultTotal}`);
  for (const kind of FAULT_KINDS) lines.push(`  ${kind.padEnd(18)} ${r.faults.get(kind) ?? 0}`);

  lines.push("watchers:");
  for (const w of r.watch) {
    lines.push(`  ${w.watcher}: ${w.events} events checked, ${w.reconnects} reconnects, ${w.problems.length === 0 ? "ok" : `${w.problems.length} problems`}`);
    for (const p of w.problems) lines.push(`    ${p}`);
  }
  for (const p of r.setupProblems) lines.push(`problem: ${p}`);

  const v = r.verdict;
  if (v.ok) lines.push(`linearizability: ok (${v.keys} keys, ${v.ops} ops, ${v.steps} search steps)`);
  else lines.push(`linearizability: ${v.kind.toUpperCase()} on key ${v.key}\n${v.explanation}`);
  if (!v.ok && v.kind === "violation") {
    lines.push("the slice again, with the node each op went to and the revision it answered with:");
    for (const op of v.slice) {
      const extra = op as Partial<RecordedOp>;
      lines.push(`${op === v.blocked ? "=>" : "  "}${formatOp(op)}  @${extra.node ?? "?"}${extra.revision !== undefined ? ` rev ${extra.revision}` : ""}${extra.error ? ` (${extra.error})` : ""}`);
    }
  }

  lines.push(`verdict: ${r.passed ? "PASS" : "FAIL"} (seed ${r.seed})`);
  if (r.historyPath) lines.push(`history saved to ${r.historyPath}`);
  if (r.dataDir) lines.push(`node data and logs kept in ${r.dataDir}`);
  if (!r.passed) lines.push(`fault log:\n  ${r.faultLog.join("\n  ")}`);
  return lines.join("\n");
}
