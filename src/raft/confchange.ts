import type { ConfChange, ConfState, NodeId } from "./types";

// A membership change entry carries the change and the whole configuration it produces, so a
// reader never needs the previous configuration to know the new one. Single-server changes only:
// each one adds, promotes or removes exactly one node (Raft dissertation, chapter 4).

export interface ConfChangeRecord {
  change: ConfChange;
  conf: ConfState;
}

/** The configuration after `change`, or an error string if the change makes no sense. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState | string {
  const isVoter = conf.voters.includes(change.node);
  const isLearner = conf.learners.includes(change.node);
  const without = (list: NodeId[]) => list.filter((n) => n !== change.node);
  switch (change.kind) {
    case "addVoter":
      if (isVoter) return `${change.node} is already a voter`;
      return { voters: [...conf.voters, change.node], learners: without(conf.learners) };
    case "addLearner":
      if (isVoter) return `${change.node} is a voter; remove it before adding it as a learner`;
      if (isLearner) return `${change.node} is already a learner`;
      return { voters: [...conf.voters], learners: [...conf.learners, change.node] };
    case "promote":
      if (!isLearner) return `${change.node} is not a learner`;
      return { voters: [...conf.voters, change.node], learners: without(conf.learners) };
    case "remove":
      if (!isVoter && !isLearner) return `${change.node} is not a member`;
      if (isVoter && conf.voters.length === 1) return `cannot remove the last voter ${change.node}`;
      return { voters: without(conf.voters), learners: without(conf.learners) };
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(record: ConfChangeRecord): Uint8Array {
  return encoder.encode(
    JSON.stringify({
      kind: record.change.kind,
      node: record.change.node,
      context: Buffer.from(record.change.context).toString("base64"),
      voters: record.conf.voters,
      learners: record.conf.learners,
    }),
  );
}

export function decodeConfChange(data: Uint8Array): ConfChangeRecord {
  const o = JSON.parse(decoder.decode(data)) as {
    kind: ConfChange["kind"];
    node: string;
    context: string;
    voters: string[];
    learners: string[];
  };
  return {
    change: { kind: o.kind, node: o.node, context: new Uint8Array(Buffer.from(o.context, "base64")) },
    conf: { voters: o.voters, learners: o.learners },
  };
}
