import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import {
  Consistency,
  type DeleteRequest,
  type DeleteResponse,
  type GetRequest,
  type GetResponse,
  type KV,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type ResponseHeader,
  ResponseHeaderSchema,
  type TxnRequest,
  type TxnResponse,
  type WatchRequest,
  type WatchResponse,
} from "../gen/rbkv/v1/kv_pb";
import { deleteCommand, putCommand, txnCommand } from "../kv/commands";
import type { ApplyResult } from "../kv/store";
import type { Command } from "../gen/rbkv/raft/v1/raft_pb";
import type { CallContext, KvApi } from "./api";
import { forwardOptions, noAddress, onLeader, type LeaderForwarder } from "./forward";
import type { RaftNode } from "./raft_node";
import type { WatchHub } from "./watch_hub";

/**
 * The KV service on a node: writes go through Raft on the leader (a follower forwards them),
 * linearizable reads wait for a ReadIndex, serializable reads are answered locally at once.
 */
export type HeaderFn = (revision?: bigint | number) => ResponseHeader;

/** Response headers as this node fills them: cluster, member, term and the store's revision. */
export function responseHeader(node: RaftNode, clusterId: () => bigint): HeaderFn {
  return (revision = node.kv.revision()) =>
    create(ResponseHeaderSchema, {
      clusterId: clusterId(),
      memberId: node.raft.id,
      revision: BigInt(revision),
      raftTerm: BigInt(node.currentSoftState().term),
    });
}

export class NodeKvApi implements KvApi {
  constructor(
    private readonly node: RaftNode,
    private readonly forwarder: LeaderForwarder,
    private readonly watches: WatchHub,
    private readonly header: HeaderFn,
  ) {}

  async get(req: GetRequest, signal?: AbortSignal): Promise<GetResponse> {
    await this.readBarrier(req.consistency, signal);
    const res = this.node.kv.get(req.key, Date.now());
    res.header = this.header(res.header?.revision);
    return res;
  }

  async range(req: RangeRequest, signal?: AbortSignal): Promise<RangeResponse> {
    await this.readBarrier(req.consistency, signal);
    const res = await this.node.kv.range(
      { key: req.key, rangeEnd: req.rangeEnd, limit: Number(req.limit), keysOnly: req.keysOnly, countOnly: req.countOnly },
      Date.now(),
    );
    res.header = this.header(res.header?.revision);
    return res;
  }

  put(req: PutRequest, signal?: AbortSignal, ctx?: CallContext): Promise<PutResponse> {
    return this.write(signal, ctx, () => putCommand(req, Date.now()), pick("put"), (c) => c.put(req, forwardOptions(signal)));
  }

  delete(req: DeleteRequest, signal?: AbortSignal, ctx?: CallContext): Promise<DeleteResponse> {
    return this.write(signal, ctx, () => deleteCommand(req, Date.now()), pick("delete"), (c) => c.delete(req, forwardOptions(signal)));
  }

  txn(req: TxnRequest, signal?: AbortSignal, ctx?: CallContext): Promise<TxnResponse> {
    return this.write(signal, ctx, () => txnCommand(req, Date.now()), pick("txn"), (c) => c.txn(req, forwardOptions(signal)));
  }

  watch(req: WatchRequest, signal: AbortSignal): AsyncIterable<WatchResponse> {
    return this.watches.watch(req, signal);
  }

  private async readBarrier(consistency: Consistency, signal: AbortSignal | undefined): Promise<void> {
    if (consistency !== Consistency.SERIALIZABLE) return this.node.linearizableBarrier(signal);
    // Local, maybe stale, but never older than a write this node has already answered.
    const settled = this.node.kv.writesSettled();
    if (settled) await settled;
  }

  private write<T extends { header?: ResponseHeader }>(
    signal: AbortSignal | undefined,
    ctx: CallContext | undefined,
    build: () => Command,
    extract: (r: ApplyResult) => T,
    forward: (client: Client<typeof KV>) => Promise<T>,
  ): Promise<T> {
    return onLeader(
      this.node,
      signal,
      ctx?.forwarded ?? false,
      async () => {
        const res = extract(await this.node.propose(this.node.kv.encodeProposal(build()), signal));
        res.header = this.header(res.header?.revision);
        return res;
      },
      (leader) => {
        const client = this.forwarder.kvClient(leader);
        if (!client) throw noAddress(leader);
        return forward(client);
      },
    );
  }
}

interface ResponseOf {
  put: PutResponse;
  delete: DeleteResponse;
  txn: TxnResponse;
}

function pick<K extends keyof ResponseOf>(kind: K) {
  return (r: ApplyResult): ResponseOf[K] => {
    if (r.kind !== kind) throw new ConnectError(`internal: expected a ${kind} result, got ${r.kind}`, Code.Internal);
    return (r as unknown as { response: ResponseOf[K] }).response;
  };
}
