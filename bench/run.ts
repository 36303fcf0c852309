#!/usr/bin/env bun
// `bun run bench`: puts/s, linearizable and serializable gets/s, a 90/10 read/write mix and watch
// events/s, at several client counts, for rbkv and (when installed) etcd, with the same lean
// gRPC client for both. Prints a table with rbkv/etcd ratios and writes JSON.
import { mkdir, writeFile } from "node:fs/promises";
import { LeanGrpcClient } from "./lib/lean_grpc";
import { runLoad, type LoadResult } from "./lib/load";
import { etcdAvailable, etcdTarget } from "./lib/etcd_target";
import { rbkvTarget } from "./lib/rbkv_target";
import type { BenchTarget } from "./lib/target";

interface Args {
  endpoints: string[] | null;
  durationS: number;
  warmupS: number;
  serverWarmupS: number;
  clients: number[];
  systems: string[];
  workloads: string[];
  json: string;
  keys: number;
  valueBytes: number;
  watchers: number;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    return argv[i].includes("=") ? argv[i].slice(argv[i].indexOf("=") + 1) : argv[i + 1];
  };
  const list = (v: string | undefined, d: string) => (v ?? d).split(",").filter(Boolean);
  return {
    endpoints: get("endpoints") ? list(get("endpoints"), "") : null,
    durationS: Number(get("duration") ?? 10),
    warmupS: Number(get("warmup") ?? 2),
    serverWarmupS: Number(get("server-warmup") ?? 20),
    clients: list(get("clients"), "1,16,64,256").map(Number),
    systems: list(get("systems"), "rbkv,etcd"),
    workloads: list(get("workloads"), "put,get-linearizable,get-serializable,mix-90-10,watch"),
    json: get("json") ?? `bench/results/bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`,
    keys: Number(get("keys") ?? 4096),
    valueBytes: Number(get("value-bytes") ?? 256),
    watchers: Number(get("watchers") ?? 100),
  };
}

const enc = new TextEncoder();
const STREAMS_PER_SESSION = 32;

interface Row extends LoadResult {
  system: string;
  workload: string;
  clients: number;
  watchEventsPerSec?: number;
}

/** One h2 session per STREAMS_PER_SESSION workers, per endpoint. */
function clientsFor(endpoints: string[], concurrency: number): LeanGrpcClient[][] {
  const perEndpoint = Math.max(1, Math.ceil(concurrency / STREAMS_PER_SESSION));
  return endpoints.map((ep) => Array.from({ length: perEndpoint }, () => new LeanGrpcClient(ep)));
}

async function measure(target: BenchTarget, args: Args, workload: string, concurrency: number): Promise<Row> {
  const leader = await target.leader();
  const value = new Uint8Array(args.valueBytes).fill(120);
  const keys = Array.from({ length: args.keys }, (_, i) => enc.encode(`bench/k/${i.toString().padStart(6, "0")}`));
  const putBodies = keys.map((k) => target.put(k, value));
  const linGets = keys.map((k) => target.get(k, false));
  const serGets = keys.map((k) => target.get(k, true));
  const leaderClients = clientsFor([leader], concurrency)[0];
  const readClients = clientsFor(target.endpoints, concurrency);
  const writeOn = (w: number) => leaderClients[Math.floor(w / STREAMS_PER_SESSION) % leaderClients.length];
  const readOn = (w: number) => {
    const ep = readClients[w % readClients.length];
    return ep[Math.floor(w / STREAMS_PER_SESSION) % ep.length];
  };
  const pick = (w: number, n: number) => (w * 7919 + n) % keys.length;
  const base = { concurrency, durationMs: args.durationS * 1000, warmupMs: args.warmupS * 1000, serverPids: target.serverPids() };
  let watchEvents = 0;
  let closeWatchers: (() => void) | null = null;
  let op: (w: number, n: number) => Promise<void>;
  switch (workload) {
    case "put":
      op = async (w, n) => void (await writeOn(w).unary(putBodies[pick(w, n)].path, putBodies[pick(w, n)].body));
      break;
    case "get-linearizable":
      op = async (w, n) => void (await readOn(w).unary(linGets[pick(w, n)].path, linGets[pick(w, n)].body));
      break;
    case "get-serializable":
      op = async (w, n) => void (await readOn(w).unary(serGets[pick(w, n)].path, serGets[pick(w, n)].body));
      break;
    case "warmup":
      // Every hot path once in three: a JIT runtime compiles its optimized tiers under load.
      op = async (w, n) => {
        const k = pick(w, n);
        if (n % 3 === 0) await writeOn(w).unary(putBodies[k].path, putBodies[k].body);
        else if (n % 3 === 1) await readOn(w).unary(linGets[k].path, linGets[k].body);
        else await readOn(w).unary(serGets[k].path, serGets[k].body);
      };
      break;
    case "mix-90-10":
      op = async (w, n) => {
        const k = pick(w, n);
        if (n % 10 === 9) await writeOn(w).unary(putBodies[k].path, putBodies[k].body);
        else await readOn(w).unary(linGets[k].path, linGets[k].body);
      };
      break;
    case "watch": {
      const prefix = enc.encode("bench/w/");
      const watchReq = target.watch(prefix);
      const watchClients = target.endpoints.map((ep) => new LeanGrpcClient(ep));
      const streams = Array.from({ length: args.watchers }, (_, i) =>
        watchClients[i % watchClients.length].stream(watchReq.path, watchReq.body, (m) => (watchEvents += target.countEvents(m)), watchReq.keepOpen),
      );
      closeWatchers = () => {
        for (const s of streams) s.close();
        for (const c of watchClients) c.close();
      };
      await new Promise((r) => setTimeout(r, 1000));
      const watchPuts = keys.map((_, i) => target.put(enc.encode(`bench/w/${i}`), value));
      op = async (w, n) => void (await writeOn(w).unary(watchPuts[pick(w, n)].path, watchPuts[pick(w, n)].body));
      break;
    }
    default:
      throw new Error(`unknown workload ${workload}`);
  }
  let eventsAtStart = 0;
  const startTimer = setTimeout(() => (eventsAtStart = watchEvents), base.warmupMs);
  const result = await runLoad({ ...base, op });
  clearTimeout(startTimer);
  const eventsMeasured = watchEvents - eventsAtStart;
  closeWatchers?.();
  for (const c of [...leaderClients, ...readClients.flat()]) c.close();
  return {
    ...result,
    system: target.name,
    workload,
    clients: concurrency,
    ...(workload === "watch" ? { watchEventsPerSec: eventsMeasured / args.durationS } : {}),
  };
}

async function preload(target: BenchTarget, args: Args): Promise<void> {
  const client = new LeanGrpcClient(await target.leader());
  const value = new Uint8Array(args.valueBytes).fill(120);
  const puts = [];
  for (let i = 0; i < args.keys; i++) {
    const p = target.put(enc.encode(`bench/k/${i.toString().padStart(6, "0")}`), value);
    puts.push(client.unary(p.path, p.body));
    if (puts.length >= 64) await Promise.all(puts.splice(0));
  }
  await Promise.all(puts);
  client.close();
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function printTable(rows: Row[]): string {
  const lines: string[] = [];
  lines.push("| workload | clients | system | ops/s | p50 ms | p99 ms | max ms | errors | client CPU | server CPU | rbkv/etcd ops | rbkv/etcd p99 |");
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    const etcd = rows.find((e) => e.system === "etcd" && e.workload === r.workload && e.clients === r.clients);
    const rate = r.watchEventsPerSec ?? r.opsPerSec;
    const etcdRate = etcd ? (etcd.watchEventsPerSec ?? etcd.opsPerSec) : 0;
    const ratio = r.system === "rbkv" && etcd ? `${fmt(rate / Math.max(1, etcdRate), 2)}` : "";
    const p99Ratio = r.system === "rbkv" && etcd ? `${fmt(r.p99Ms / Math.max(0.001, etcd.p99Ms), 2)}` : "";
    const label = r.workload === "watch" ? `${fmt(rate)} ev/s (${fmt(r.opsPerSec)} puts/s)` : fmt(rate);
    lines.push(`| ${r.workload} | ${r.clients} | ${r.system} | ${label} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.maxMs, 1)} | ${r.errors} | ${fmt(r.clientCpu, 2)} | ${fmt(r.serverCpu, 2)} | ${ratio} | ${p99Ratio} |`);
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rows: Row[] = [];
  for (const system of args.systems) {
    if (system === "etcd" && !etcdAvailable()) {
      console.log("etcd is not installed (apt-get install -y etcd-server etcd-client): skipping the etcd comparison");
      continue;
    }
    console.log(`starting ${system}...`);
    const target = system === "etcd" ? await etcdTarget() : await rbkvTarget(args.endpoints);
    try {
      await preload(target, args);
      if (args.serverWarmupS > 0) {
        console.log(`${system}: warming up for ${args.serverWarmupS} s (puts and gets at 64 clients, not measured)`);
        await measure(target, { ...args, durationS: args.serverWarmupS, warmupS: 0 }, "warmup", 64);
      }
      for (const workload of args.workloads) {
        for (const clients of args.clients) {
          const row = await measure(target, args, workload, clients);
          rows.push(row);
          console.log(`${system} ${workload} c=${clients}: ${fmt(row.watchEventsPerSec ?? row.opsPerSec)}/s p50 ${fmt(row.p50Ms, 2)} ms p99 ${fmt(row.p99Ms, 2)} ms errors ${row.errors} client CPU ${fmt(row.clientCpu, 2)} server CPU ${fmt(row.serverCpu, 2)}`);
        }
      }
    } finally {
      await target.stop();
    }
  }
  rows.sort((a, b) => a.workload.localeCompare(b.workload) || a.clients - b.clients || a.system.localeCompare(b.system));
  const table = printTable(rows);
  console.log(`\n${table}\n`);
  await mkdir("bench/results", { recursive: true });
  await writeFile(args.json, JSON.stringify({ at: new Date().toISOString(), args, rows }, null, 2));
  console.log(`wrote ${args.json}`);
}

await main();
process.exit(0);
