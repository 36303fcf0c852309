// Which services the client port serves.
import type { ConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { Health } from "../gen/grpc/health/v1/health_pb";
import { Cluster } from "../gen/rbkv/v1/cluster_pb";
import { KV } from "../gen/rbkv/v1/kv_pb";
import type { ClusterApi, KvApi, Limits } from "../node/api";
import { createClusterService } from "./cluster_service";
import { createHealthService, type HealthStatus } from "./health_service";
import { createKvService } from "./kv_service";
import { applyStatusFixes } from "./status_fixes";

export interface RouteDeps {
  kv: KvApi;
  cluster: ClusterApi;
  limits: Limits;
  health: () => HealthStatus;
}

export function registerRoutes(deps: RouteDeps): (router: ConnectRouter) => void {
  return (router) => {
    router.service(KV, createKvService(deps.kv, deps.limits));
    router.service(Cluster, createClusterService(deps.cluster));
    router.service(Health, createHealthService(deps.health));
    applyStatusFixes(router);
  };
}

/** The handler for a request path (a query string is ignored), for both HTTP versions. */
export function handlerLookup(handlers: readonly UniversalHandler[]): (url: string) => UniversalHandler | undefined {
  const byPath = new Map(handlers.map((h) => [h.requestPath, h]));
  return (url) => byPath.get(url.split("?", 1)[0]);
}
