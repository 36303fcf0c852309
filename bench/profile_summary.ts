#!/usr/bin/env bun
// Summarizes .cpuprofile files (from `bun --cpu-prof`): the functions with the most self time and
// the most inclusive time, as a share of all samples. Usage:
//   RBKV_BUN_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npx bun bench/run.ts --systems rbkv ...
//   npx bun bench/profile_summary.ts /tmp/prof/*.cpuprofile [--top 30]
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

function label(n: ProfileNode): string {
  const file = n.callFrame.url.replace(/^.*\/(src|node_modules)\//, "$1/");
  return `${n.callFrame.functionName || "(anonymous)"} ${file}:${n.callFrame.lineNumber + 1}`;
}

function summarize(path: string, top: number): void {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (const id of profile.samples) {
    const node = byId.get(id);
    if (!node) continue;
    total++;
    self.set(label(node), (self.get(label(node)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + 1);
    }
  }
  const idle = [...self.entries()].filter(([l]) => l.startsWith("(idle)") || l.startsWith("(program)")).reduce((s, [, v]) => s + v, 0);
  const busy = total - idle;
  const print = (title: string, m: Map<string, number>) => {
    console.log(`  ${title}`);
    for (const [l, v] of [...m.entries()].filter(([l]) => !l.startsWith("(")).sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`    ${((100 * v) / busy).toFixed(1).padStart(5)}%  ${l}`);
    }
  };
  console.log(`${path}: ${total} samples, ${busy} busy`);
  print("self (share of busy samples)", self);
  print("inclusive", inclusive);
}

const args = process.argv.slice(2);
const topAt = args.indexOf("--top");
const top = topAt >= 0 ? Number(args[topAt + 1]) : 30;
for (const f of args.filter((a, i) => a.endsWith(".cpuprofile") && !(topAt >= 0 && i === topAt + 1))) summarize(f, top);
