// Node and Bun only: a client over gRPC (HTTP/2, h2c) with connections that close() releases,
// and snapshot checksums from node:crypto.
import { createHash } from "node:crypto";
import { Http2SessionManager, createGrpcTransport } from "@connectrpc/connect-node";
import { RbkvClient, type RbkvClientOptions } from "./client";

export type NodeClientOptions = Omit<RbkvClientOptions, "endpoints" | "transport" | "onClose" | "hasher">;

export function createNodeClient(endpoints: readonly string[], options: NodeClientOptions = {}): RbkvClient {
  const sessions: Http2SessionManager[] = [];
  return new RbkvClient({
    ...options,
    endpoints,
    transport: (baseUrl) => {
      const sessionManager = new Http2SessionManager(baseUrl, { idleConnectionTimeoutMs: 60_000 });
      sessions.push(sessionManager);
      return createGrpcTransport({ baseUrl, sessionManager });
    },
    hasher: () => {
      const hash = createHash("sha256");
      return { update: (data: Uint8Array) => hash.update(data), digest: () => new Uint8Array(hash.digest()) };
    },
    onClose: () => {
      for (const s of sessions) s.abort();
    },
  });
}
