import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { Cluster, MemberAddRequestSchema } from "../gen/rbkv/v1/cluster_pb";
import type { NodeConfig } from "./config";
import type { NodeClusterApi } from "./cluster_api";
import { transportFor } from "./forward";
import type { Logger, RaftNode } from "./raft_node";

const RETRY_MS = 500;
/** Promote once the learner's applied index is this close to the leader's commit. */
const CAUGHT_UP_LAG = 100;

/**
 * Joins an existing cluster through any member: asks to be added as a learner (idempotent: a
 * retry or a restart with the same flags does no harm), then, once this node has caught up, asks
 * to be promoted to voter. Runs in the background until it is a voter.
 */
export function joinCluster(
  config: NodeConfig,
  node: RaftNode,
  cluster: NodeClusterApi,
  log: Logger,
  onClusterId: (id: bigint) => void,
): { cancel(): void } {
  const abort = new AbortController();
  const client = createClient(Cluster, transportFor(config.joinAddr as string));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  void (async () => {
    let added = cluster.members().some((m) => m.id === config.id);
    while (!added && !abort.signal.aborted) {
      try {
        const res = await client.memberAdd(
          create(MemberAddRequestSchema, { id: config.id, grpcAddr: config.grpcAddr, raftAddr: config.raftAdvertiseAddr, asLearner: true }),
          { signal: abort.signal, timeoutMs: config.requestTimeoutMs },
        );
        if (res.header && res.header.clusterId !== 0n) onClusterId(res.header.clusterId);
        // The members must hear this node's answers before its log tells it where they are.
        for (const m of res.members) node.learnPeer(m.id, m.raftAddr);
        added = true;
        log(`joined the cluster through ${config.joinAddr} as a learner`);
      } catch (err) {
        log(`join through ${config.joinAddr} failed: ${(err as Error).message}; retrying`);
        await sleep(RETRY_MS);
      }
    }
    while (!abort.signal.aborted) {
      const me = cluster.members().find((m) => m.id === config.id);
      if (me && !me.isLearner) return;
      const status = node.raft.status();
      const caughtUp = me !== undefined && status.leader !== null && node.kv.appliedIndex() + CAUGHT_UP_LAG >= status.commit;
      if (caughtUp) {
        try {
          await client.memberPromote({ id: config.id }, { signal: abort.signal, timeoutMs: config.requestTimeoutMs });
          log("promoted to voter");
          return;
        } catch (err) {
          log(`promotion not yet possible: ${(err as Error).message}`);
        }
      }
      await sleep(RETRY_MS);
    }
  })();
  return { cancel: () => abort.abort() };
}
