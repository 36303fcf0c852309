// What the Connect handlers (src/server) ask of a node. The node runtime implements it; handlers
// validate input first and turn thrown ConnectErrors into statuses.
import type {
  MemberAddRequest,
  MemberAddResponse,
  MemberListRequest,
  MemberListResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
  MemberRemoveRequest,
  MemberRemoveResponse,
  SnapshotRequest,
  SnapshotResponse,
  StatusRequest,
  StatusResponse,
  TransferLeadershipRequest,
  TransferLeadershipResponse,
} from "../gen/rbkv/v1/cluster_pb";
import type {
  DeleteRequest,
  DeleteResponse,
  GetRequest,
  GetResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
  WatchRequest,
  WatchResponse,
} from "../gen/rbkv/v1/kv_pb";

/** What a handler knows about the call besides the request. */
export interface CallContext {
  /** The call was forwarded by another member (header rbkv-forwarded: 1): never forward it again. */
  forwarded: boolean;
}

export interface KvApi {
  get(req: GetRequest, signal?: AbortSignal): Promise<GetResponse>;
  range(req: RangeRequest, signal?: AbortSignal): Promise<RangeResponse>;
  put(req: PutRequest, signal?: AbortSignal, ctx?: CallContext): Promise<PutResponse>;
  delete(req: DeleteRequest, signal?: AbortSignal, ctx?: CallContext): Promise<DeleteResponse>;
  txn(req: TxnRequest, signal?: AbortSignal, ctx?: CallContext): Promise<TxnResponse>;
  /** Ends when `signal` aborts (client went away) or with a ConnectError (compacted, slow, no leader). */
  watch(req: WatchRequest, signal: AbortSignal): AsyncIterable<WatchResponse>;
}

export interface ClusterApi {
  status(req: StatusRequest, signal: AbortSignal): Promise<StatusResponse>;
  memberList(req: MemberListRequest, signal: AbortSignal): Promise<MemberListResponse>;
  memberAdd(req: MemberAddRequest, signal: AbortSignal, ctx?: CallContext): Promise<MemberAddResponse>;
  memberRemove(req: MemberRemoveRequest, signal: AbortSignal, ctx?: CallContext): Promise<MemberRemoveResponse>;
  memberPromote(req: MemberPromoteRequest, signal: AbortSignal, ctx?: CallContext): Promise<MemberPromoteResponse>;
  transferLeadership(req: TransferLeadershipRequest, signal: AbortSignal, ctx?: CallContext): Promise<TransferLeadershipResponse>;
  snapshot(req: SnapshotRequest, signal: AbortSignal): AsyncIterable<SnapshotResponse>;
}

/** Size limits enforced on input before it reaches the node (flags). */
export interface Limits {
  maxKeyBytes: number;
  maxValueBytes: number;
  maxRequestBytes: number;
  maxTxnOps: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxKeyBytes: 4096,
  maxValueBytes: 1 << 20,
  maxRequestBytes: 2 << 20,
  maxTxnOps: 128,
};

/** Who this node is, for the GET / page and health. */
export interface NodeIdentity {
  id: string;
  grpcAddr: string;
  raftAddr: string;
  version: string;
}
