// Input checks for the Cluster service (member ids and addresses).
import type {
  MemberAddRequest,
  MemberListRequest,
  MemberPromoteRequest,
  MemberRemoveRequest,
  TransferLeadershipRequest,
} from "../gen/rbkv/v1/cluster_pb";
import { Consistency } from "../gen/rbkv/v1/kv_pb";
import { invalid } from "./validate";

export const MAX_MEMBER_ID_CHARS = 256;

function checkMemberId(id: string, field: string): void {
  if (id.length === 0) throw invalid(`${field} is empty; give the member's id`);
  if (id.length > MAX_MEMBER_ID_CHARS) {
    throw invalid(`${field} is ${id.length} characters; the limit is ${MAX_MEMBER_ID_CHARS}`);
  }
}

/** host:port or [ipv6]:port with a port in 1..65535. */
function checkAddress(addr: string, field: string): void {
  if (addr.length === 0) throw invalid(`${field} is empty; give host:port`);
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw invalid(`${field} "${addr}" is not host:port (port 1-65535)`);
}

export function validateMemberList(req: MemberListRequest): void {
  if (!(req.consistency in Consistency)) {
    throw invalid(`consistency ${req.consistency} is not a known Consistency value`);
  }
}

export function validateMemberAdd(req: MemberAddRequest): void {
  checkMemberId(req.id, "id");
  checkAddress(req.grpcAddr, "grpc_addr");
  checkAddress(req.raftAddr, "raft_addr");
}

/** MemberRemove and MemberPromote name one existing member. */
export function validateMemberById(req: MemberRemoveRequest | MemberPromoteRequest): void {
  checkMemberId(req.id, "id");
}

export function validateTransferLeadership(req: TransferLeadershipRequest): void {
  // Empty target means "let the leader pick"; only a non-empty one is checked.
  if (req.targetId.length > 0) checkMemberId(req.targetId, "target_id");
}
