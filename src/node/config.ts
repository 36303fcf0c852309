import { DEFAULT_LIMITS, type Limits } from "./api";

/** Everything a node is started with (from flags; see src/node/flags.ts). */
export interface NodeConfig {
  id: string;
  grpcAddr: string;
  raftAddr: string;
  /** The Raft address other members dial (default raftAddr); differs when a proxy stands in front. */
  raftAdvertiseAddr: string;
  joinAddr: string | null;
  logDir: string;
  kvDir: string;
  /** Milliseconds per Raft tick. */
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  /** Compact the log once this many entries are applied past its start. */
  snapshotEntries: number;
  /** Entries kept behind the compaction point for followers that are a little behind. */
  retainEntries: number;
  /** Watch history kept, in revisions. */
  historyRevisions: number;
  /** How long a write waits for a leader during an election before UNAVAILABLE. */
  leaderWaitMs: number;
  /** How long a request may wait for its entry to apply before DEADLINE_EXCEEDED. */
  requestTimeoutMs: number;
  limits: Limits;
  /** Restore this backup file into a new single-node cluster before starting. */
  restoreFrom: string | null;
  /** Resident memory (MiB) above which the node collects garbage (see MemoryGovernor); 0: never. */
  memorySoftLimitMb: number;
  quiet: boolean;
}

export const DEFAULT_NODE_CONFIG: Omit<NodeConfig, "id" | "grpcAddr" | "raftAddr" | "raftAdvertiseAddr" | "logDir" | "kvDir"> = {
  joinAddr: null,
  tickMs: 100,
  electionTicks: 10,
  heartbeatTicks: 1,
  snapshotEntries: 10_000,
  retainEntries: 5_000,
  historyRevisions: 100_000,
  leaderWaitMs: 3_000,
  requestTimeoutMs: 10_000,
  limits: DEFAULT_LIMITS,
  restoreFrom: null,
  memorySoftLimitMb: 224,
  quiet: false,
};

/** Member context stored in the membership change entry: how to reach the member. */
export interface MemberAddress {
  grpcAddr: string;
  raftAddr: string;
  /** Added by --join-addr as a learner: the leader promotes it once it has caught up. */
  autoPromote?: boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeMemberAddress(a: MemberAddress): Uint8Array {
  return enc.encode(JSON.stringify(a));
}

export function decodeMemberAddress(bytes: Uint8Array | undefined): MemberAddress | null {
  if (!bytes || bytes.length === 0) return null;
  try {
    const o = JSON.parse(dec.decode(bytes)) as Partial<MemberAddress>;
    if (typeof o.grpcAddr !== "string" || typeof o.raftAddr !== "string") return null;
    return { grpcAddr: o.grpcAddr, raftAddr: o.raftAddr, autoPromote: o.autoPromote === true };
  } catch {
    return null;
  }
}
