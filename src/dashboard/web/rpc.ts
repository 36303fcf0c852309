// gRPC-Web clients: one for the node that served the page, and one per member address.
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { Cluster } from "../../gen/rbkv/v1/cluster_pb";
import { KV } from "../../gen/rbkv/v1/kv_pb";

export type KvClient = Client<typeof KV>;
export type ClusterClient = Client<typeof Cluster>;

export interface NodeClients {
  baseUrl: string;
  kv: KvClient;
  cluster: ClusterClient;
}

function clientsFor(baseUrl: string): NodeClients {
  const transport = createGrpcWebTransport({ baseUrl, useBinaryFormat: true });
  return { baseUrl, kv: createClient(KV, transport), cluster: createClient(Cluster, transport) };
}

/** The node that served this page (same origin). */
export function servingNode(): NodeClients {
  return clientsFor(window.location.origin);
}

/**
 * A member's client address as the browser should dial it. A member listening on a wildcard
 * address (0.0.0.0, ::) is reached through the host name the page was loaded from.
 */
export function memberBaseUrl(grpcAddr: string): string {
  const colon = grpcAddr.lastIndexOf(":");
  let host = colon >= 0 ? grpcAddr.slice(0, colon) : grpcAddr;
  const port = colon >= 0 ? grpcAddr.slice(colon + 1) : "";
  if (host === "" || host === "0.0.0.0" || host === "::" || host === "[::]") host = window.location.hostname;
  if (host.includes(":") && !host.startsWith("[")) host = `[${host}]`;
  return `${window.location.protocol}//${host}${port ? `:${port}` : ""}`;
}

const memberClients = new Map<string, NodeClients>();

/** A cached client for a member's grpc_addr. */
export function memberNode(grpcAddr: string): NodeClients {
  const baseUrl = memberBaseUrl(grpcAddr);
  let clients = memberClients.get(baseUrl);
  if (!clients) {
    clients = clientsFor(baseUrl);
    memberClients.set(baseUrl, clients);
  }
  return clients;
}
