#!/usr/bin/env bun
// Scale: put throughput on an empty store, then load N keys of 1 KiB (default 1,000,000 ≈ 1 GiB)
// into a local 3-node cluster, and report node RSS, put throughput at that size, and how long a
// new (fourth) node takes to catch up from a snapshot.
// `npx bun bench/scale.ts [--keys 1000000] [--value-bytes 1024] [--duration 10]`
import { create, toBinary } from "@bufbuild/protobuf";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutRequestSchema, RequestOpSchema, TxnRequestSchema } from "../src/gen/rbkv/v1/kv_pb";
import { LocalCluster, type LocalNode } from "../src/devtools/local_cluster";
import { LeanGrpcClient } from "./lib/lean_grpc";
import { nodeOutput } from "./lib/rbkv_target";
import { arg } from "./lib/args";
import { runLoad } from "./lib/load";

const KEYS = Number(arg("keys", "1000000"));
const VALUE_BYTES = Number(arg("value-bytes", "1024"));
const DURATION_S = Number(arg("duration", "10"));
const TXN_OPS = 128;
const enc = new TextEncoder();

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Samples every node's RSS twice a second; `stop()` returns each node's peak in MiB. */
function samplePeaks(nodes: LocalNode[]): { stop(): number[] } {
  const peaks = nodes.map(() => 0);
  const timer = setInterval(() => {
    nodes.forEach((n, i) => {
      if (n.running) peaks[i] = Math.max(peaks[i], rssMiB(n.process?.pid ?? 0));
    });
  }, 500);
  return {
    stop() {
      clearInterval(timer);
      return peaks;
    },
  };
}

function printRss(nodes: LocalNode[], what: string, peaks?: number[]): void {
  const now = nodes.map((n) => rssMiB(n.process?.pid ?? 0).toFixed(0)).join(", ");
  console.log(`  RSS ${what} (${nodes.map((n) => n.spec.name).join(", ")}): ${now} MiB${peaks ? `; peak during it: ${peaks.map((p) => p.toFixed(0)).join(", ")} MiB` : ""}`);
}

async function jsonCall<T>(node: LocalNode, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${node.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return (await res.json()) as T;
}

async function leaderOf(cluster: LocalCluster): Promise<LocalNode> {
  const list = await jsonCall<{ members: { grpcAddr: string; isLeader?: boolean }[] }>(cluster.nodes[0], "/rbkv.v1.Cluster/MemberList", {});
  const addr = list.members.find((m) => m.isLeader)?.grpcAddr;
  const node = cluster.nodes.find((n) => n.grpcAddr === addr);
  if (!node) throw new Error("no leader");
  return node;
}

async function putRate(leader: LocalNode, pids: number[], label: string): Promise<void> {
  const client = new LeanGrpcClient(leader.grpcAddr);
  const value = new Uint8Array(VALUE_BYTES).fill(97);
  const bodies = Array.from({ length: 4096 }, (_, i) => toBinary(PutRequestSchema, create(PutRequestSchema, { key: enc.encode(`scale/put/${i}`), value })));
  const r = await runLoad({ concurrency: 64, durationMs: DURATION_S * 1000, warmupMs: 2000, serverPids: pids, op: (w, n) => client.unary("/rbkv.v1.KV/Put", bodies[(w * 131 + n) % bodies.length]).then(() => undefined) });
  client.close();
  console.log(`${label}: ${Math.round(r.opsPerSec)} puts/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, errors ${r.errors}, client CPU ${r.clientCpu.toFixed(2)}, server CPU ${r.serverCpu.toFixed(2)}`);
}

async function load(leader: LocalNode): Promise<number> {
  const client = new LeanGrpcClient(leader.grpcAddr);
  const value = new Uint8Array(VALUE_BYTES).fill(98);
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    for (;;) {
      const start = next;
      if (start >= KEYS) return;
      next += TXN_OPS;
      const ops = [];
      for (let i = start; i < Math.min(KEYS, start + TXN_OPS); i++) {
        ops.push(create(RequestOpSchema, { request: { case: "put", value: create(PutRequestSchema, { key: enc.encode(`scale/data/${i.toString().padStart(8, "0")}`), value }) } }));
      }
      const body = toBinary(TxnRequestSchema, create(TxnRequestSchema, { success: ops }));
      for (let attempt = 0; ; attempt++) {
        try {
          await client.unary("/rbkv.v1.KV/Txn", body, 30_000);
          break;
        } catch (err) {
          if (attempt > 5) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      if (Math.floor(start / 50_000) !== Math.floor((start + TXN_OPS) / 50_000)) process.stdout.write(`  loaded ${start + TXN_OPS} keys\n`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  client.close();
  return (performance.now() - t0) / 1000;
}

const dir = await mkdtemp(join(tmpdir(), "rbkv-scale-"));
const cluster = await LocalCluster.create({ size: 3, baseDir: dir, flags: ["--quiet", "--snapshot-entries=2000", "--retain-entries=1000"], output: nodeOutput() });
try {
  await cluster.bootstrap();
  const pids = () => cluster.nodes.filter((n) => n.running).map((n) => n.process?.pid ?? 0);
  let leader = await leaderOf(cluster);
  await putRate(leader, pids(), "put throughput, empty store");
  let sampler = samplePeaks(cluster.nodes);
  const loadSecs = await load(leader);
  console.log(`loaded ${KEYS} keys of ${VALUE_BYTES} B in ${loadSecs.toFixed(1)} s (${Math.round(KEYS / loadSecs)} keys/s)`);
  printRss(cluster.nodes, "right after loading", sampler.stop());
  await new Promise((r) => setTimeout(r, 5_000));
  printRss(cluster.nodes, "5 s after loading");
  leader = await leaderOf(cluster);
  sampler = samplePeaks(cluster.nodes);
  await putRate(leader, pids(), `put throughput at ${((KEYS * VALUE_BYTES) / 2 ** 30).toFixed(2)} GiB`);
  printRss(cluster.nodes, "after the put run", sampler.stop());
  const status = await jsonCall<{ commitIndex: string }>(leader, "/rbkv.v1.Cluster/Status", {});
  const target = Number(status.commitIndex);
  const fourth = await cluster.addNode();
  const t0 = performance.now();
  fourth.start(leader.grpcAddr);
  await fourth.waitReady();
  for (;;) {
    const s = await jsonCall<{ appliedIndex?: string }>(fourth, "/rbkv.v1.Cluster/Status", {}).catch(() => ({ appliedIndex: "0" }));
    if (Number(s.appliedIndex ?? 0) >= target) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`a new node caught up (applied ${target}) in ${((performance.now() - t0) / 1000).toFixed(1)} s; its RSS ${rssMiB(fourth.process?.pid ?? 0).toFixed(0)} MiB; snapshot installed: ${fourth.recent.some((l) => l.includes("installed snapshot"))}`);
} finally {
  await cluster.stopAll();
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
