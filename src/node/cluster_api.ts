import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Member,
  type MemberAddRequest,
  type MemberAddResponse,
  MemberAddResponseSchema,
  type MemberListResponse,
  MemberListResponseSchema,
  type MemberPromoteRequest,
  type MemberPromoteResponse,
  MemberPromoteResponseSchema,
  type MemberRemoveRequest,
  type MemberRemoveResponse,
  MemberRemoveResponseSchema,
  MemberSchema,
  type SnapshotResponse,
  SnapshotResponseSchema,
  type StatusResponse,
  StatusResponseSchema,
  type TransferLeadershipRequest,
  type TransferLeadershipResponse,
  TransferLeadershipResponseSchema,
} from "../gen/rbkv/v1/cluster_pb";
import type { ResponseHeader } from "../gen/rbkv/v1/kv_pb";
import { Role, type ConfChange, type NodeId } from "../raft/types";
import type { CallContext, ClusterApi } from "./api";
import { decodeMemberAddress, encodeMemberAddress } from "./config";
import { forwardOptions, noAddress, onLeader, type LeaderForwarder } from "./forward";
import type { RaftNode } from "./raft_node";

/** A learner may be promoted once it is at most this many entries behind the leader. */
const PROMOTE_MAX_LAG = 1_000;

/** The Cluster service: status, membership and leadership, and streamed backups. */
export class NodeClusterApi implements ClusterApi {
  constructor(
    private readonly node: RaftNode,
    private readonly forwarder: LeaderForwarder,
    private readonly header: (revision?: bigint | number) => ResponseHeader,
    private readonly version: string,
    private readonly electionTimeoutMs: number,
  ) {}

  async status(): Promise<StatusResponse> {
    const s = this.node.raft.status();
    const learner = s.conf.learners.includes(s.id);
    return create(StatusResponseSchema, {
      header: this.header(),
      memberId: s.id,
      leaderId: s.leader ?? "",
      raftTerm: BigInt(s.term),
      commitIndex: BigInt(s.commit),
      appliedIndex: BigInt(this.node.kv.appliedIndex()),
      role: learner ? "learner" : s.role,
      dbSizeBytes: BigInt(await this.node.kv.dbSizeBytes()),
      version: this.version,
    });
  }

  async memberList(): Promise<MemberListResponse> {
    return create(MemberListResponseSchema, { header: this.header(), members: this.members() });
  }

  memberAdd(req: MemberAddRequest, signal: AbortSignal, ctx?: CallContext): Promise<MemberAddResponse> {
    return this.onLeader(signal, ctx, async () => {
      const existing = this.members().find((m) => m.id === req.id);
      if (existing) {
        if (existing.grpcAddr === req.grpcAddr && existing.raftAddr === req.raftAddr) {
          return create(MemberAddResponseSchema, { header: this.header(), member: existing, members: this.members() });
        }
        throw new ConnectError(`member ${req.id} already exists with other addresses (${existing.grpcAddr}, ${existing.raftAddr}); remove it first`, Code.AlreadyExists);
      }
      const context = encodeMemberAddress({ grpcAddr: req.grpcAddr, raftAddr: req.raftAddr });
      await this.change({ kind: req.asLearner ? "addLearner" : "addVoter", node: req.id, context }, signal);
      const members = this.members();
      return create(MemberAddResponseSchema, { header: this.header(), member: members.find((m) => m.id === req.id), members });
    }, (c) => c.memberAdd(req, forwardOptions(signal)));
  }

  memberRemove(req: MemberRemoveRequest, signal: AbortSignal, ctx?: CallContext): Promise<MemberRemoveResponse> {
    return this.onLeader(signal, ctx, async () => {
      if (!this.members().some((m) => m.id === req.id)) throw new ConnectError(`no member ${req.id}`, Code.NotFound);
      await this.change({ kind: "remove", node: req.id, context: new Uint8Array(0) }, signal);
      return create(MemberRemoveResponseSchema, { header: this.header(), members: this.members() });
    }, (c) => c.memberRemove(req, forwardOptions(signal)));
  }

  memberPromote(req: MemberPromoteRequest, signal: AbortSignal, ctx?: CallContext): Promise<MemberPromoteResponse> {
    return this.onLeader(signal, ctx, async () => {
      const member = this.members().find((m) => m.id === req.id);
      if (!member) throw new ConnectError(`no member ${req.id}`, Code.NotFound);
      if (!member.isLearner) return create(MemberPromoteResponseSchema, { header: this.header(), members: this.members() });
      const s = this.node.raft.status();
      const match = s.progress[req.id]?.match ?? 0;
      if (s.lastIndex - match > PROMOTE_MAX_LAG) {
        throw new ConnectError(`learner ${req.id} is ${s.lastIndex - match} entries behind; promote it once it has caught up`, Code.FailedPrecondition);
      }
      await this.change({ kind: "promote", node: req.id, context: new Uint8Array(0) }, signal);
      return create(MemberPromoteResponseSchema, { header: this.header(), members: this.members() });
    }, (c) => c.memberPromote(req, forwardOptions(signal)));
  }

  transferLeadership(req: TransferLeadershipRequest, signal: AbortSignal, ctx?: CallContext): Promise<TransferLeadershipResponse> {
    return this.onLeader(signal, ctx, async () => {
      const s = this.node.raft.status();
      const target = req.targetId || mostCaughtUpVoter(s.conf.voters.filter((v) => v !== s.id), s.progress);
      if (!target) throw new ConnectError("there is no other voter to transfer leadership to", Code.FailedPrecondition);
      if (target === s.id) return create(TransferLeadershipResponseSchema, { header: this.header(), leaderId: s.id });
      if (!s.conf.voters.includes(target)) throw new ConnectError(`${target} is not a voting member`, Code.FailedPrecondition);
      if (!this.node.raft.transferLeadership(target)) throw new ConnectError(`cannot transfer leadership to ${target} now; retry`, Code.Unavailable);
      this.node.schedule();
      const leader = await this.waitForLeaderChange(target, signal);
      if (leader !== target) throw new ConnectError(`leadership did not move to ${target} in time (leader: ${leader ?? "none"}); retry`, Code.Unavailable);
      return create(TransferLeadershipResponseSchema, { header: this.header(), leaderId: leader });
    }, (c) => c.transferLeadership(req, forwardOptions(signal)));
  }

  async *snapshot(_req: unknown, signal: AbortSignal): AsyncGenerator<SnapshotResponse> {
    const hash = createHash("sha256");
    let first = true;
    let pending: Uint8Array | null = null;
    // Hold one chunk back so the last one can carry the checksum.
    for await (const chunk of this.node.kv.createSnapshotStream()) {
      if (signal.aborted) return;
      if (pending) {
        yield create(SnapshotResponseSchema, { header: first ? this.header() : undefined, blob: pending });
        first = false;
      }
      hash.update(chunk);
      pending = chunk;
    }
    yield create(SnapshotResponseSchema, { header: first ? this.header() : undefined, blob: pending ?? new Uint8Array(0), checksum: new Uint8Array(hash.digest()) });
  }

  /** Members as the applied configuration has them. */
  members(): Member[] {
    const { conf, contexts } = this.node.kv.conf();
    const leader = this.node.currentSoftState().leader;
    const toMember = (id: NodeId, isLearner: boolean) => {
      const addr = decodeMemberAddress(contexts[id]);
      return create(MemberSchema, { id, grpcAddr: addr?.grpcAddr ?? "", raftAddr: addr?.raftAddr ?? "", isLearner, isLeader: id === leader });
    };
    return [...conf.voters.map((id) => toMember(id, false)), ...conf.learners.map((id) => toMember(id, true))];
  }

  private async change(cc: ConfChange, signal: AbortSignal): Promise<void> {
    const result = await this.node.proposeConfChange(cc, signal);
    if (result.kind !== "confChange") throw new ConnectError(`internal: expected a membership result, got ${result.kind}`, Code.Internal);
  }

  private onLeader<T>(
    signal: AbortSignal,
    ctx: CallContext | undefined,
    local: () => Promise<T>,
    remote: (c: NonNullable<ReturnType<LeaderForwarder["clusterClient"]>>) => Promise<T>,
  ): Promise<T> {
    return onLeader(this.node, signal, ctx?.forwarded ?? false, local, (leader) => {
      const client = this.forwarder.clusterClient(leader);
      if (!client) throw noAddress(leader);
      return remote(client);
    });
  }

  private waitForLeaderChange(target: NodeId, signal: AbortSignal): Promise<NodeId | null> {
    return new Promise((resolve) => {
      const done = (leader: NodeId | null) => {
        clearTimeout(timer);
        off();
        resolve(leader);
      };
      const off = this.node.onSoftState((s) => {
        if (s.leader === target || (s.role !== Role.Leader && s.leader !== null && s.leader !== this.node.raft.id)) done(s.leader);
      });
      const timer = setTimeout(() => done(this.node.currentSoftState().leader), this.electionTimeoutMs * 3);
      signal.addEventListener("abort", () => done(null), { once: true });
    });
  }
}

function mostCaughtUpVoter(candidates: NodeId[], progress: Record<NodeId, { match: number }>): NodeId | null {
  let best: NodeId | null = null;
  for (const id of candidates) if (best === null || (progress[id]?.match ?? 0) > (progress[best]?.match ?? 0)) best = id;
  return best;
}
