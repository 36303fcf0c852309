import type { ConfState, NodeId } from "../raft/types";
import { decodeConfChange } from "../raft/confchange";

/**
 * The configuration in force, plus each member's opaque context bytes from its ConfChange (the
 * runtime keeps its addresses there). Removed members are dropped.
 */
export interface Membership {
  conf: ConfState;
  contexts: Record<NodeId, Uint8Array>;
}

export function emptyMembership(): Membership {
  return { conf: { voters: [], learners: [] }, contexts: {} };
}

export function applyConfChangeEntry(current: Membership, data: Uint8Array): Membership {
  const { change, conf } = decodeConfChange(data);
  const contexts: Record<NodeId, Uint8Array> = { ...current.contexts };
  if (change.kind === "remove") {
    delete contexts[change.node];
  } else if (change.context.length > 0 || !(change.node in contexts)) {
    // A promote usually carries no context: keep the one the member was added with.
    contexts[change.node] = change.context;
  }
  // Only members of the resulting configuration keep a context.
  const members = new Set([...conf.voters, ...conf.learners]);
  for (const id of Object.keys(contexts)) if (!members.has(id)) delete contexts[id];
  return { conf: { voters: [...conf.voters], learners: [...conf.learners] }, contexts };
}

interface MembershipJson {
  voters: string[];
  learners: string[];
  contexts: Record<string, string>;
}

export function membershipToJson(m: Membership): MembershipJson {
  const contexts: Record<string, string> = {};
  for (const [id, ctx] of Object.entries(m.contexts)) contexts[id] = Buffer.from(ctx).toString("base64");
  return { voters: m.conf.voters, learners: m.conf.learners, contexts };
}

export function membershipFromJson(o: MembershipJson): Membership {
  const contexts: Record<string, Uint8Array> = {};
  for (const [id, ctx] of Object.entries(o.contexts)) contexts[id] = new Uint8Array(Buffer.from(ctx, "base64"));
  return { conf: { voters: o.voters, learners: o.learners }, contexts };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeMembership(m: Membership): Uint8Array {
  return encoder.encode(JSON.stringify(membershipToJson(m)));
}

export function decodeMembership(bytes: Uint8Array): Membership {
  return membershipFromJson(JSON.parse(decoder.decode(bytes)) as MembershipJson);
}
