// A real 3-node cluster in a temp folder for the client and CLI tests; stops exactly what it started.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalCluster, type LocalNode } from "../../src/devtools/local_cluster";
import { createNodeClient } from "../../src/client/node";
import type { RbkvClient } from "../../src/client";

export interface TestCluster {
  cluster: LocalCluster;
  baseDir: string;
  endpoints: string[];
  stop(): Promise<void>;
  leader(): Promise<LocalNode>;
}

export async function startCluster(size = 3, prefix = "rbkv-client-", flags: string[] = []): Promise<TestCluster> {
  const baseDir = mkdtempSync(join(tmpdir(), prefix));
  const cluster = await LocalCluster.create({ size, baseDir, output: "quiet", flags });
  await cluster.bootstrap();
  const endpoints = cluster.nodes.map((n) => n.grpcAddr);
  return {
    cluster,
    baseDir,
    endpoints,
    async stop() {
      await Promise.all(cluster.nodes.map((n) => n.kill()));
      rmSync(baseDir, { recursive: true, force: true });
    },
    async leader() {
      const client = createNodeClient(endpoints);
      try {
        const ep = await client.leaderEndpoint();
        const node = cluster.nodes.find((n) => n.grpcAddr === ep);
        if (!node) throw new Error("no leader found");
        return node;
      } finally {
        client.close();
      }
    },
  };
}

/** Retries `check` until it returns true or the time runs out. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 15_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function clientFor(t: TestCluster, onEndpoint?: (method: string, endpoint: string) => void): RbkvClient {
  return createNodeClient(t.endpoints, { onCall: onEndpoint ? (e) => { if (!e.error) onEndpoint(e.method, e.endpoint); } : undefined });
}
