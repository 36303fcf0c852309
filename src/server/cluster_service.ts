// Handlers of rbkv.v1.Cluster: validate the request, then hand it to the node with the call's signal.
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Cluster, SnapshotRequest, SnapshotResponse } from "../gen/rbkv/v1/cluster_pb";
import type { ClusterApi } from "../node/api";
import { callContext } from "./call_context";
import { untilAborted } from "./until_aborted";
import {
  validateMemberAdd,
  validateMemberList,
  validateMemberById,
  validateTransferLeadership,
} from "./validate_cluster";

export function createClusterService(cluster: ClusterApi): ServiceImpl<typeof Cluster> {
  return {
    async status(req, ctx) {
      return cluster.status(req, ctx.signal);
    },
    async memberList(req, ctx) {
      validateMemberList(req);
      return cluster.memberList(req, ctx.signal);
    },
    async memberAdd(req, ctx) {
      validateMemberAdd(req);
      return cluster.memberAdd(req, ctx.signal, callContext(ctx));
    },
    async memberRemove(req, ctx) {
      validateMemberById(req);
      return cluster.memberRemove(req, ctx.signal, callContext(ctx));
    },
    async memberPromote(req, ctx) {
      validateMemberById(req);
      return cluster.memberPromote(req, ctx.signal, callContext(ctx));
    },
    async transferLeadership(req, ctx) {
      validateTransferLeadership(req);
      return cluster.transferLeadership(req, ctx.signal, callContext(ctx));
    },
    async *snapshot(req: SnapshotRequest, ctx: HandlerContext): AsyncGenerator<SnapshotResponse> {
      yield* untilAborted(cluster.snapshot(req, ctx.signal), ctx.signal);
    },
  };
}
