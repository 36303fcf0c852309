// Reads the state of the cluster: the member list from the serving node (or, when it is down, from
// any member seen before), then every member's own Status, asked of that member directly.
import type { Member, StatusResponse } from "../../gen/rbkv/v1/cluster_pb";
import { Consistency } from "../../gen/rbkv/v1/kv_pb";
import { errorText } from "./dom";
import { memberNode, servingNode, type NodeClients } from "./rpc";

const MEMBER_LIST_TIMEOUT_MS = 1500;
const STATUS_TIMEOUT_MS = 1000;

export type Health = "healthy" | "no-leader" | "unreachable";

export interface MemberState {
  id: string;
  grpcAddr: string;
  isLearner: boolean;
  /** The member's own answer to Status; null when it could not be reached. */
  status: StatusResponse | null;
  error: string | null;
  health: Health;
}

export interface ClusterState {
  members: MemberState[];
  /** The member that leads, as the reachable members report it; null during an election. */
  leaderId: string | null;
  /** The store revision: the leader's, else the highest a reachable member reports. */
  revision: bigint | null;
  term: bigint | null;
  /** Address of the node that answered MemberList. */
  listedBy: string;
}

async function listMembers(sources: NodeClients[]): Promise<{ members: Member[]; listedBy: string }> {
  const failures: string[] = [];
  for (const node of sources) {
    try {
      const res = await node.cluster.memberList({ consistency: Consistency.SERIALIZABLE }, { timeoutMs: MEMBER_LIST_TIMEOUT_MS });
      return { members: res.members, listedBy: node.baseUrl };
    } catch (err) {
      failures.push(`${node.baseUrl}: ${errorText(err)}`);
    }
  }
  throw new Error(`no member answered MemberList (${failures.join("; ")})`);
}

async function memberState(member: Member): Promise<MemberState> {
  const base = { id: member.id, grpcAddr: member.grpcAddr, isLearner: member.isLearner };
  try {
    const status = await memberNode(member.grpcAddr).cluster.status({}, { timeoutMs: STATUS_TIMEOUT_MS });
    return { ...base, status, error: null, health: status.leaderId ? "healthy" : "no-leader" };
  } catch (err) {
    return { ...base, status: null, error: errorText(err), health: "unreachable" };
  }
}

/**
 * The leader of the newest term any reachable member knows: the member that says it leads that
 * term, else the leader the members of that term name, else the member list's opinion.
 */
function findLeader(members: MemberState[], listed: Member[]): MemberState | null {
  const reachable = members.filter((m) => m.status !== null);
  const newestTerm = reachable.reduce((t, m) => (m.status!.raftTerm > t ? m.status!.raftTerm : t), 0n);
  const current = reachable.filter((m) => m.status!.raftTerm === newestTerm);
  const claimant = current.find((m) => m.status!.role === "leader");
  if (claimant) return claimant;
  const leaderId = current.find((m) => m.status!.leaderId !== "")?.status?.leaderId ?? listed.find((m) => m.isLeader)?.id;
  return members.find((m) => m.id === leaderId) ?? null;
}

export class ClusterReader {
  private known: Member[] = [];

  async read(): Promise<ClusterState> {
    const serving = servingNode();
    const fallbacks = this.known.map((m) => memberNode(m.grpcAddr)).filter((n) => n.baseUrl !== serving.baseUrl);
    const { members: listed, listedBy } = await listMembers([serving, ...fallbacks]);
    this.known = listed;
    const members = await Promise.all(listed.map(memberState));
    const leader = findLeader(members, listed);
    const reachable = members.flatMap((m) => (m.status ? [m.status] : []));
    const maxOf = (xs: bigint[]) => (xs.length ? xs.reduce((a, b) => (b > a ? b : a)) : null);
    const revision = leader?.status?.header?.revision ?? maxOf(reachable.map((s) => s.header?.revision ?? 0n));
    const term = maxOf(reachable.map((s) => s.raftTerm));
    return { members, leaderId: leader?.id ?? null, revision, term, listedBy };
  }
}
