#!/usr/bin/env bun
// `npx bun bench/server.ts`: requests/s for a no-op-ish Get through the client-facing server
// (src/server) over a fake in-memory backend, so the figure is the cost of the server itself:
// sniffing, HTTP/2 (src/server/h2) or node:http, connect-node, protobuf-es and validation.
// The server runs in a child process; its CPU time is read from /proc, so "server us/call" is
// independent of how much CPU the client side burns. 16 requests in flight, 5 s, 3 repetitions.
//
// Options: --duration 5 --reps 3 --concurrency 16 --clients grpc-js,connect-json,lean-grpc
//          --profile DIR (the server process writes a .cpuprofile into DIR; open it in Chrome
//          DevTools or summarize it) --serve (internal: run the server and print its port)
import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { GetRequestSchema, PutRequestSchema } from "../src/gen/rbkv/v1/kv_pb";
import { DEFAULT_LIMITS } from "../src/node/api";
import { startServer } from "../src/server";
import { FakeCluster, FakeKv } from "../test/server/fake_backend";
import { processCpuSeconds, selfCpuSeconds } from "./lib/cpu";
import { LeanGrpcClient } from "./lib/lean_grpc";
import { arg } from "./lib/args";

const GET_PATH = "/rbkv.v1.KV/Get";


async function serve(): Promise<void> {
  const kv = new FakeKv();
  await kv.put(create(PutRequestSchema, { key: new TextEncoder().encode("bench"), value: new Uint8Array(64) }));
  const server = await startServer({
    listenAddr: "127.0.0.1:0",
    kv,
    cluster: new FakeCluster(kv),
    limits: DEFAULT_LIMITS,
    identity: { id: "bench", grpcAddr: "", raftAddr: "", version: "bench" },
    health: () => "SERVING",
    logger: { debug: () => {}, info: () => {}, error: (m) => console.error(m) },
  });
  console.log(`PORT ${server.port}`);
  // Exit cleanly on SIGINT so that a --cpu-prof profile gets written.
  process.on("SIGINT", () => void server.close().then(() => process.exit(0)));
}

type Call = () => Promise<unknown>;

interface ClientUnderTest {
  name: string;
  call: Call;
  close(): void;
}

function grpcJs(port: number): ClientUnderTest {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const body = Buffer.from(toBinary(GetRequestSchema, create(GetRequestSchema, { key: new TextEncoder().encode("bench") })));
  const call: Call = () =>
    new Promise((resolve, reject) =>
      client.makeUnaryRequest(GET_PATH, (b: Buffer) => b, (b: Buffer) => b, body, (err, res) => (err ? reject(err) : resolve(res))),
    );
  return { name: "grpc-js (h2c)", call, close: () => client.close() };
}

function connectJson(port: number): ClientUnderTest {
  const url = `http://127.0.0.1:${port}${GET_PATH}`;
  const init = { method: "POST", headers: { "content-type": "application/json" }, body: '{"key":"YmVuY2g="}', keepalive: true };
  const call: Call = async () => {
    const res = await fetch(url, init);
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    return res.arrayBuffer();
  };
  return { name: "Connect JSON (HTTP/1.1 fetch)", call, close: () => {} };
}

function leanGrpc(port: number): ClientUnderTest {
  const client = new LeanGrpcClient(`127.0.0.1:${port}`);
  const body = toBinary(GetRequestSchema, create(GetRequestSchema, { key: new TextEncoder().encode("bench") }));
  return { name: "lean gRPC (HTTP/2 on a raw socket)", call: () => client.unary(GET_PATH, body), close: () => client.close?.() };
}

interface Run {
  rps: number;
  serverUsPerCall: number;
  clientUsPerCall: number;
  errors: number;
}

async function runOnce(c: ClientUnderTest, serverPid: number, durationMs: number, concurrency: number): Promise<Run> {
  let done = 0;
  let errors = 0;
  const server0 = processCpuSeconds(serverPid);
  const client0 = selfCpuSeconds();
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      try {
        await c.call();
        done++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const serverCpu = processCpuSeconds(serverPid) - server0;
  const clientCpu = selfCpuSeconds() - client0;
  return { rps: done / seconds, serverUsPerCall: (serverCpu / done) * 1e6, clientUsPerCall: (clientCpu / done) * 1e6, errors };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number) => Math.round(x).toLocaleString("en-US");

async function main(): Promise<void> {
  const durationMs = Number(arg("duration", "5")) * 1000;
  const reps = Number(arg("reps", "3"));
  const concurrency = Number(arg("concurrency", "16"));
  const kinds = arg("clients", "grpc-js,connect-json,lean-grpc").split(",");

  const profileDir = process.argv.includes("--profile") ? arg("profile", "") : "";
  const child = Bun.spawn([process.execPath, ...(profileDir ? ["--cpu-prof"] : []), import.meta.path, "--serve"], {
    cwd: profileDir || undefined,
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = child.stdout.getReader();
  let out = "";
  while (!/PORT (\d+)/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error("server exited before printing its port");
    out += new TextDecoder().decode(value);
  }
  const port = Number(/PORT (\d+)/.exec(out)![1]);
  const factories: Record<string, (p: number) => ClientUnderTest> = { "grpc-js": grpcJs, "connect-json": connectJson, "lean-grpc": leanGrpc };

  console.log(`server ${process.versions.bun ? `bun ${process.versions.bun}` : process.version}, ${concurrency} in flight, ${durationMs / 1000} s x ${reps}, fake backend, Get of a 64-byte value`);
  try {
    for (const kind of kinds) {
      const c = factories[kind](port);
      await runOnce(c, child.pid, 1000, concurrency); // warm-up: JIT, connections
      const runs: Run[] = [];
      for (let i = 0; i < reps; i++) runs.push(await runOnce(c, child.pid, durationMs, concurrency));
      c.close();
      const rps = runs.map((r) => r.rps);
      console.log(
        `${c.name.padEnd(32)} ${fmt(median(rps)).padStart(7)} req/s (range ${fmt(Math.min(...rps))}-${fmt(Math.max(...rps))})` +
          `  server ${fmt(median(runs.map((r) => r.serverUsPerCall)))} us CPU/call` +
          `  client ${fmt(median(runs.map((r) => r.clientUsPerCall)))} us CPU/call` +
          (runs.some((r) => r.errors) ? `  errors ${runs.map((r) => r.errors).join("/")}` : ""),
      );
    }
  } finally {
    child.kill("SIGINT");
    await child.exited;
  }
}

if (process.argv.includes("--serve")) await serve();
else await main();
