// Friendly shapes of the Cluster service's answers.
import type { Member as MemberMessage, StatusResponse } from "../gen/rbkv/v1/cluster_pb";
import type { ConnectError } from "@connectrpc/connect";

export interface MemberInfo {
  id: string;
  /** Address clients use. */
  grpcAddr: string;
  /** Address peers use for Raft. */
  raftAddr: string;
  isLearner: boolean;
  isLeader: boolean;
}

export interface MemberStatus {
  memberId: string;
  /** Empty when the member knows no leader. */
  leaderId: string;
  /** "leader", "follower", "candidate", "pre-candidate" or "learner". */
  role: string;
  isLeader: boolean;
  raftTerm: bigint;
  commitIndex: bigint;
  appliedIndex: bigint;
  /** Store revision. */
  revision: bigint;
  dbSizeBytes: number;
  version: string;
}

/** One endpoint's answer to Status (or why it gave none), for a table across endpoints. */
export interface EndpointStatus {
  endpoint: string;
  status: MemberStatus | null;
  error: ConnectError | null;
  tookMs: number;
}

export function memberInfo(m: MemberMessage): MemberInfo {
  return { id: m.id, grpcAddr: m.grpcAddr, raftAddr: m.raftAddr, isLearner: m.isLearner, isLeader: m.isLeader };
}

export function memberStatus(s: StatusResponse): MemberStatus {
  return {
    memberId: s.memberId,
    leaderId: s.leaderId,
    role: s.role,
    isLeader: s.role === "leader",
    raftTerm: s.raftTerm,
    commitIndex: s.commitIndex,
    appliedIndex: s.appliedIndex,
    revision: s.header?.revision ?? 0n,
    dbSizeBytes: Number(s.dbSizeBytes),
    version: s.version,
  };
}
