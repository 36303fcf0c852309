// grpc.health.v1.Health, so that grpc_health_probe, Kubernetes gRPC probes and load balancers can
// ask whether this node can serve. Only the whole-server status ("" service) and our own
// services are known; anything else is NOT_FOUND, as the standard asks.
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthCheckResponseSchema,
  type HealthCheckRequest,
  type HealthCheckResponse,
} from "../gen/grpc/health/v1/health_pb";
import { Cluster } from "../gen/rbkv/v1/cluster_pb";
import { KV } from "../gen/rbkv/v1/kv_pb";

export type HealthStatus = "SERVING" | "NOT_SERVING";

/** How often Watch re-reads the status callback. */
export const HEALTH_WATCH_INTERVAL_MS = 1000;

const KNOWN_SERVICES = new Set(["", KV.typeName, Cluster.typeName, Health.typeName]);

function toResponse(status: HealthStatus): HealthCheckResponse {
  const value = status === "SERVING" ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  return create(HealthCheckResponseSchema, { status: value });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

export function createHealthService(health: () => HealthStatus, watchIntervalMs = HEALTH_WATCH_INTERVAL_MS): ServiceImpl<typeof Health> {
  return {
    async check(req) {
      if (!KNOWN_SERVICES.has(req.service)) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      return toResponse(health());
    },
    async *watch(req: HealthCheckRequest, ctx: HandlerContext): AsyncGenerator<HealthCheckResponse> {
      if (!KNOWN_SERVICES.has(req.service)) {
        yield create(HealthCheckResponseSchema, { status: ServingStatus.SERVICE_UNKNOWN });
        return;
      }
      let last: HealthStatus | undefined;
      while (!ctx.signal.aborted) {
        const now = health();
        if (now !== last) yield toResponse(now);
        last = now;
        await sleep(watchIntervalMs, ctx.signal);
      }
    },
  };
}
