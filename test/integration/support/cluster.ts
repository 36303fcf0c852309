// Real node processes for the integration tests: a LocalCluster in a mkdtemp folder, stopped and
// removed afterwards (only the processes this test started), plus the small helpers every test
// file needs: find the leader, clients per node, retries, polling.
import { afterAll, beforeAll, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { Cluster } from "../../../src/gen/rbkv/v1/cluster_pb";
import { LocalCluster, type LocalNode } from "../../../src/devtools/local_cluster";
import { makeClient, type ClientKind, type RpcClient } from "../../server/clients";

export { makeClient, type ClientKind, type RpcClient };

/** Flags that make elections quick (election timeout 0.5-1 s) without being unfair to a loaded 2-core box. */
export const FAST_FLAGS = ["--tick-ms=50", "--election-ticks=10", "--heartbeat-ticks=1", "--quiet"];
/** One election timeout at FAST_FLAGS, in ms (the upper end of the randomized range). */
export const ELECTION_TIMEOUT_MS = 1000;

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface TestCluster {
  cluster: LocalCluster;
  dir: string;
  nodes: LocalNode[];
  /** A client of the given kind for a node (cached; closed by `close`). */
  client(node: LocalNode, kind?: ClientKind): RpcClient;
  /** Stops every process this cluster started (SIGKILL if SIGTERM does not end it), removes the data. */
  close(): Promise<void>;
}

export async function startCluster(size: number, extraFlags: string[] = [], bootstrap = true): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), "rbkv-it-"));
  const cluster = await LocalCluster.create({ size, baseDir: dir, flags: [...FAST_FLAGS, ...extraFlags], output: "quiet" });
  const clients = new Map<string, RpcClient>();
  const tc: TestCluster = {
    cluster,
    dir,
    get nodes() {
      return cluster.nodes;
    },
    client(node, kind = "grpc-js") {
      const key = `${node.spec.name}/${node.spec.grpcPort}/${kind}`;
      let c = clients.get(key);
      if (!c) {
        c = makeClient(kind, node.spec.grpcPort);
        clients.set(key, c);
      }
      return c;
    },
    async close() {
      for (const c of clients.values()) c.close();
      clients.clear();
      await Promise.all(
        cluster.nodes.map(async (n) => {
          if (!n.running) return;
          const stopped = n.stop("SIGTERM");
          const timedOut = await Promise.race([stopped.then(() => false), sleep(10_000).then(() => true)]);
          if (timedOut) await n.kill();
        }),
      );
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (bootstrap) {
    try {
      await cluster.bootstrap();
    } catch (err) {
      dumpLogs(tc);
      await tc.close();
      throw err;
    }
  }
  return tc;
}

/** Prints each node's recent output: call it when a test fails, to see why. */
export function dumpLogs(tc: TestCluster, lines = 40): void {
  for (const n of tc.nodes) console.error(`--- ${n.spec.name} (${n.id}) ---\n${n.recent.slice(-lines).join("\n")}`);
}

/** Polls `check` until it returns a value other than undefined; throws with `what` after timeoutMs. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown = null;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastErr ? ` (last error: ${(lastErr as Error).message})` : ""}`);
    await sleep(everyMs);
  }
}

/** The leader as the running nodes see it: a node whose own Status says it leads. */
export async function findLeader(tc: TestCluster, timeoutMs = 20_000): Promise<LocalNode> {
  return waitFor(
    "a leader",
    async () => {
      for (const n of tc.nodes.filter((x) => x.running)) {
        try {
          const s = await tc.client(n, "connect-json-fetch").unary(Cluster.method.status, {});
          if (s.role === "leader" && s.leaderId === s.memberId) return n;
        } catch {
          // not answering: try the next
        }
      }
      return undefined;
    },
    timeoutMs,
  );
}

export function isRetryable(err: unknown): boolean {
  // UNAVAILABLE is what a node answers when it has no leader or cannot reach it, and what grpc-js
  // reports for a refused or dropped connection; anything else is a real answer (or a bug).
  if (err instanceof ConnectError) return err.code === Code.Unavailable || err.code === Code.DeadlineExceeded;
  return err instanceof TypeError; // fetch: connection refused / reset, the node is down
}

/**
 * Calls `fn` against the running nodes in turn, starting at `startAt`, until one succeeds; retries
 * only on UNAVAILABLE-like failures, up to `timeoutMs`.
 */
export async function withRetry<T>(tc: TestCluster, fn: (node: LocalNode) => Promise<T>, timeoutMs = 20_000, startAt = 0): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = startAt; ; attempt++) {
    const running = tc.nodes.filter((n) => n.running);
    if (running.length === 0) throw new Error("no node is running");
    const node = running[attempt % running.length];
    try {
      return await fn(node);
    } catch (err) {
      if (!isRetryable(err) || Date.now() > deadline) throw err;
      await sleep(50);
    }
  }
}

/**
 * One cluster shared by the tests of a file: started before them, stopped after them (exactly the
 * processes it started), with the nodes' last log lines printed if any test failed. `it` is
 * `test` with a generous timeout that marks the file as failed.
 */
export function sharedCluster(size: number, extraFlags: string[] = []): { readonly tc: TestCluster; it(name: string, body: () => Promise<void>): void } {
  let cluster: TestCluster | undefined;
  let failed = false;
  beforeAll(async () => {
    cluster = await startCluster(size, extraFlags);
  }, 60_000);
  afterAll(async () => {
    if (failed && cluster) dumpLogs(cluster);
    await cluster?.close();
  }, 60_000);
  return {
    get tc(): TestCluster {
      if (!cluster) throw new Error("the shared cluster is not started (use it inside tests)");
      return cluster;
    },
    it(name, body) {
      test(name, async () => {
        try {
          await body();
        } catch (err) {
          failed = true;
          throw err;
        }
      }, 90_000);
    },
  };
}
