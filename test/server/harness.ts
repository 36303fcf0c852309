// Starts the real server over the fake backend on a port the OS picks.
import { DEFAULT_LIMITS, type Limits } from "../../src/node/api";
import { startServer, type RunningServer, type ServerOptions } from "../../src/server";
import type { HealthStatus } from "../../src/server/health_service";
import { FakeCluster, FakeKv } from "./fake_backend";

export const TEST_LIMITS: Limits = { ...DEFAULT_LIMITS, maxKeyBytes: 64, maxValueBytes: 1024, maxRequestBytes: 16 * 1024, maxTxnOps: 4 };

export interface Harness {
  server: RunningServer;
  port: number;
  kv: FakeKv;
  cluster: FakeCluster;
  setHealth(status: HealthStatus): void;
  logged: string[];
}

export async function startHarness(overrides: Partial<ServerOptions> = {}): Promise<Harness> {
  const kv = new FakeKv();
  const cluster = new FakeCluster(kv);
  let health: HealthStatus = "SERVING";
  const logged: string[] = [];
  const server = await startServer({
    listenAddr: "127.0.0.1:0",
    kv,
    cluster,
    limits: TEST_LIMITS,
    identity: { id: "node-under-test", grpcAddr: "127.0.0.1:1", raftAddr: "127.0.0.1:2", version: "9.9.9" },
    health: () => health,
    logger: { debug: () => {}, info: () => {}, error: (m) => logged.push(m) },
    closeGraceMs: 100,
    ...overrides,
  });
  return { server, port: server.port, kv, cluster, setHealth: (s) => (health = s), logged };
}
