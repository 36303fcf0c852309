import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Cluster } from "../gen/rbkv/v1/cluster_pb";
import { KV } from "../gen/rbkv/v1/kv_pb";
import type { KvStore } from "../kv/store";
import type { NodeId } from "../raft/types";
import { decodeMemberAddress } from "./config";

/** Connect clients to other members' client ports, for forwarding requests to the leader. */
export class LeaderForwarder {
  private clients = new Map<string, Client<DescService>>();

  /** A forwarded call that the leader does not answer within `timeoutMs` fails (DEADLINE_EXCEEDED). */
  constructor(
    private readonly kv: KvStore,
    private readonly timeoutMs: number,
  ) {}

  grpcAddr(id: NodeId): string | null {
    return decodeMemberAddress(this.kv.conf().contexts[id])?.grpcAddr ?? null;
  }

  kvClient(id: NodeId): Client<typeof KV> | null {
    return this.client(KV, id);
  }

  clusterClient(id: NodeId): Client<typeof Cluster> | null {
    return this.client(Cluster, id);
  }

  private client<S extends DescService>(service: S, id: NodeId): Client<S> | null {
    const addr = this.grpcAddr(id);
    if (!addr) return null;
    const key = `${service.typeName}@${addr}`;
    let c = this.clients.get(key) as Client<S> | undefined;
    if (!c) {
      c = createClient(service, transportFor(addr, this.timeoutMs));
      this.clients.set(key, c as unknown as Client<DescService>);
    }
    return c;
  }
}

export function transportFor(addr: string, defaultTimeoutMs?: number) {
  return createGrpcTransport({ baseUrl: `http://${addr}`, httpVersion: "2", defaultTimeoutMs } as Parameters<typeof createGrpcTransport>[0]);
}

/**
 * Runs `local` if this node leads, otherwise `remote` on the leader (waiting a bounded time for
 * one during an election). A call that was already forwarded is never forwarded again.
 */
export async function onLeader<T>(
  node: { isLeader(): boolean; waitForLeader(signal: AbortSignal | undefined): Promise<NodeId | null>; readonly raft: { readonly id: NodeId } },
  signal: AbortSignal | undefined,
  forwarded: boolean,
  local: () => Promise<T>,
  remote: (leader: NodeId) => Promise<T>,
): Promise<T> {
  for (;;) {
    if (node.isLeader()) return local();
    if (forwarded) throw new ConnectError("this node is not the leader; retry", Code.Unavailable);
    const leader = await node.waitForLeader(signal);
    if (leader === null) throw new ConnectError("no leader (an election is in progress or there is no quorum); retry", Code.Unavailable);
    if (leader === node.raft.id) continue;
    try {
      return await remote(leader);
    } catch (err) {
      throw leaderUnreachable(err, leader, signal);
    }
  }
}

/**
 * A forwarded call that failed on the way to the leader (connection reset or refused because the
 * leader just died) is UNAVAILABLE to the client, as any other "no leader right now": connect-node
 * reports a reset connection as ABORTED, a stream closed by the dying session as CANCELED and other
 * socket failures as INTERNAL, which clients do not retry. Errors the leader itself answered with
 * (wire errors) and the client's own cancellation or deadline (our signal aborted) pass through.
 */
function leaderUnreachable(err: unknown, leader: NodeId, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return err;
  const ce = ConnectError.from(err);
  if (ce.isWireError) return err;
  return new ConnectError(`could not reach the leader ${leader} (${ce.rawMessage}); retry`, Code.Unavailable, undefined, undefined, err);
}

export function forwardOptions(signal: AbortSignal | undefined) {
  return { signal, headers: { "rbkv-forwarded": "1" } };
}

export function noAddress(leader: NodeId): ConnectError {
  return new ConnectError(`the leader ${leader} has no known address yet; retry`, Code.Unavailable);
}
