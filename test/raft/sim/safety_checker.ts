// The safety invariants, checked incrementally at the moment the state they speak about changes:
// election safety, log matching, leader completeness, state machine safety, and no stale reads.
import type { MemoryStorage } from "../../../src/raft/memory_storage";
import { EntryType, Role, type Entry, type HardState, type NodeId, type SnapshotMeta, type Status } from "../../../src/raft/types";
import { violation } from "./failure";
import type { SimNode } from "./sim_node";

const decoder = new TextDecoder();

function digestOf(e: Entry): string {
  return `${e.type === EntryType.ConfChange ? "conf" : "cmd"}:${decoder.decode(e.data)}`;
}

interface LeaderCheck {
  term: number;
  /** Every index up to this one was known committed when the node became leader. */
  committedUpTo: number;
}

export class SafetyChecker {
  /** Election safety: the one leader seen in each term, over the whole run. */
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** Log matching: (index, term) names exactly one entry and one predecessor term, ever. */
  private readonly entryIdentity = new Map<string, { digest: string; prevTerm: number }>();
  /**
   * Entries known committed (applied somewhere, or covered by a durable commit index): the entry's
   * term, and the lowest term of a node that knew it committed. The entry was committed in a term
   * <= knownInTerm, so every leader of a term above knownInTerm must hold it.
   */
  private readonly committed = new Map<number, { term: number; knownInTerm: number }>();
  /** State machine safety: what was applied at each index, anywhere. */
  private readonly appliedAt = new Map<number, { term: number; digest: string }>();
  private readonly pendingLeaderChecks = new Map<NodeId, LeaderCheck>();
  /** One vote per node per term: "voter/term" -> candidate. */
  private readonly votesGranted = new Map<string, NodeId>();
  /** Highest index known committed. */
  committedMax = 0;
  maxAppliedIndex = 0;
  elections = 0;

  constructor(private readonly nodes: ReadonlyMap<NodeId, SimNode>) {}

  /** After every step that touched `node`: election safety and the core's own counters. */
  observeStatus(node: SimNode, st: Status): void {
    if (st.commit < node.lastCommit) {
      violation("commit-monotonic", `${node.id} commit went from ${node.lastCommit} to ${st.commit}`);
    }
    if (st.commit > st.lastIndex) violation("commit-within-log", `${node.id} commit ${st.commit} > lastIndex ${st.lastIndex}`);
    if (st.role === Role.Leader && st.commit > node.lastCommit) this.checkQuorumHolds(node, st);
    node.lastCommit = st.commit;
    if (st.role === Role.Leader) {
      const seen = this.leaderOfTerm.get(st.term);
      if (seen === undefined) {
        this.leaderOfTerm.set(st.term, node.id);
        this.elections++;
      } else if (seen !== node.id) {
        violation("election-safety", `term ${st.term} has two leaders: ${seen} and ${node.id}`);
      }
      if (node.lastRole !== Role.Leader || node.lastTerm !== st.term) this.becameLeader(node, st);
    }
    node.lastRole = st.role;
    node.lastTerm = st.term;
  }

  /** `voter` sends a granted vote to `candidate` in `term` (the grant is durable by now). */
  onVoteGranted(voter: NodeId, term: number, candidate: NodeId): void {
    const key = `${voter}/${term}`;
    const earlier = this.votesGranted.get(key);
    if (earlier === undefined) this.votesGranted.set(key, candidate);
    else if (earlier !== candidate) violation("one-vote-per-term", `${voter} granted its term-${term} vote to ${earlier} and then to ${candidate}`);
  }

  /**
   * A leader just advanced its commit index. Leaders commit by counting replicas of entries of
   * their own term only, so the entry at the new commit index has the leader's term, and a majority
   * of its voters (the leader included only once its own write is durable) hold it durably.
   */
  private checkQuorumHolds(leader: SimNode, st: Status): void {
    const c = st.commit;
    const term = st.term;
    const holders: NodeId[] = [];
    for (const id of st.conf.voters) {
      const storage = this.nodes.get(id)?.storage;
      if (!storage) continue;
      if (c <= storage.snapshot().index) {
        holders.push(id);
      } else if (c <= storage.lastIndex()) {
        const t = storage.term(c);
        if (t === term) holders.push(id);
        else if (id === leader.id) violation("commit-current-term", `leader ${leader.id} of term ${term} commits ${c} by counting, but its entry there has term ${t}`);
      }
    }
    if (holders.length * 2 <= st.conf.voters.length) {
      violation(
        "commit-quorum",
        `leader ${leader.id} (term ${term}) commits ${c}, durably held only by [${holders.join(",")}] of voters [${st.conf.voters.join(",")}]`,
      );
    }
  }

  private becameLeader(node: SimNode, st: Status): void {
    if (!st.conf.voters.includes(node.id)) {
      violation("leader-is-voter", `${node.id} became leader of term ${st.term} but is not a voter in [${st.conf.voters.join(",")}]`);
    }
    // Leader completeness, first part: the new leader's log reaches every committed index.
    // (A leader of an old term may still win an election late, after later terms committed more.)
    const upTo = this.committedBefore(st.term);
    if (st.lastIndex < upTo) {
      violation(
        "leader-completeness",
        `${node.id} became leader of term ${st.term} with lastIndex ${st.lastIndex} < ${upTo}, committed in an earlier term`,
      );
    }
    // Second part, once its first entry of the term is durable: its log holds each committed entry.
    this.pendingLeaderChecks.set(node.id, { term: st.term, committedUpTo: upTo });
  }

  /** The highest index known committed in a term below `term`. */
  private committedBefore(term: number): number {
    for (let i = this.committedMax; i > 0; i--) {
      const c = this.committed.get(i);
      if (c !== undefined && c.knownInTerm < term) return i;
    }
    return 0;
  }

  forgetNode(node: SimNode): void {
    this.pendingLeaderChecks.delete(node.id);
  }

  /** Before a Ready's entries are written: a node never overwrites an entry it durably committed. */
  beforeAppend(node: SimNode, entries: Entry[]): void {
    if (entries.length === 0) return;
    const storage = node.storage;
    const durableCommit = storage.hardState().commit;
    const last = Math.min(storage.lastIndex(), durableCommit, entries[entries.length - 1].index);
    for (let i = Math.max(entries[0].index, storage.firstIndex()); i <= last; i++) {
      const fresh = entries[i - entries[0].index];
      if (storage.term(i) !== fresh.term) {
        violation(
          "no-truncate-committed",
          `${node.id} overwrites committed entry ${i} (term ${storage.term(i)}, durable commit ${durableCommit}) with term ${fresh.term}`,
        );
      }
    }
  }

  /** After a Ready's entries were written to `node`'s storage. */
  afterAppend(node: SimNode, entries: Entry[]): void {
    if (entries.length === 0) return;
    const storage = node.storage;
    let prevTerm = storage.term(entries[0].index - 1);
    for (const e of entries) {
      const key = `${e.index}/${e.term}`;
      const digest = digestOf(e);
      const known = this.entryIdentity.get(key);
      if (known === undefined) {
        this.entryIdentity.set(key, { digest, prevTerm });
      } else if (known.digest !== digest || known.prevTerm !== prevTerm) {
        violation(
          "log-matching",
          `${node.id} stores entry ${key} = ${digest} after term ${prevTerm}, but another log has ${known.digest} after term ${known.prevTerm}`,
        );
      }
      prevTerm = e.term;
    }
    const check = this.pendingLeaderChecks.get(node.id);
    if (check && entries.some((e) => e.term === check.term)) {
      this.pendingLeaderChecks.delete(node.id);
      this.checkLeaderLog(node, check);
    }
  }

  private checkLeaderLog(node: SimNode, check: LeaderCheck): void {
    const storage = node.storage;
    if (storage.lastIndex() < check.committedUpTo) {
      violation("leader-completeness", `leader ${node.id} of term ${check.term} durably ends at ${storage.lastIndex()} < committed ${check.committedUpTo}`);
    }
    for (let i = storage.firstIndex(); i <= check.committedUpTo; i++) {
      const c = this.committed.get(i);
      const want = c !== undefined && c.knownInTerm < check.term ? c.term : undefined;
      if (want !== undefined && storage.term(i) !== want) {
        violation(
          "leader-completeness",
          `leader ${node.id} of term ${check.term} has term ${storage.term(i)} at ${i}, but the entry committed there has term ${want}`,
        );
      }
    }
  }

  /** Before a Ready's hard state replaces the durable one: term, vote and commit only move forward. */
  beforeHardState(node: SimNode, hs: HardState): void {
    const old = node.storage.hardState();
    const regress =
      hs.term < old.term ? "term" : hs.term === old.term && old.vote !== "" && hs.vote !== old.vote ? "vote" : hs.commit < old.commit ? "commit" : null;
    if (regress) {
      violation(
        "hard-state-regress",
        `${node.id} replaces durable ${regress} in {term ${old.term}, vote ${old.vote || "-"}, commit ${old.commit}} with {term ${hs.term}, vote ${hs.vote || "-"}, commit ${hs.commit}}`,
      );
    }
  }

  /** After a Ready's hard state was written: everything up to its commit index is committed. */
  afterHardState(node: SimNode, hs: HardState): void {
    const storage = node.storage;
    if (hs.commit > storage.lastIndex()) {
      violation("commit-durable", `${node.id} persisted commit ${hs.commit} beyond its durable last index ${storage.lastIndex()}`);
    }
    const from = Math.max(node.commitRecorded + 1, storage.firstIndex());
    for (let i = from; i <= hs.commit; i++) this.recordCommitted(node, i, storage.term(i), hs.term);
    node.commitRecorded = Math.max(node.commitRecorded, hs.commit);
  }

  afterSnapshot(node: SimNode, meta: SnapshotMeta, storage: MemoryStorage): void {
    this.recordCommitted(node, meta.index, meta.term, node.storage.hardState().term);
    node.commitRecorded = Math.max(node.commitRecorded, meta.index);
    if (storage.lastIndex() !== meta.index) violation("snapshot-install", `${node.id} log not reset to ${meta.index}`);
  }

  private recordCommitted(node: SimNode, index: number, term: number, knownInTerm: number): void {
    const known = this.committed.get(index);
    if (known === undefined) {
      this.committed.set(index, { term, knownInTerm });
      if (index > this.committedMax) this.committedMax = index;
    } else if (known.term !== term) {
      violation("committed-entry-conflict", `${node.id} holds committed index ${index} with term ${term}, but term ${known.term} was committed there`);
    } else if (knownInTerm < known.knownInTerm) {
      known.knownInTerm = knownInTerm;
    }
  }

  /** Before `entry` is applied to `node`'s state machine. True when no node applied that index before. */
  beforeApply(node: SimNode, entry: Entry): boolean {
    const sm = node.sm;
    if (entry.index !== sm.appliedIndex + 1) {
      violation("apply-order", `${node.id} applied ${sm.appliedIndex} and is handed entry ${entry.index}`);
    }
    const storage = node.storage;
    if (entry.index > storage.lastIndex() || (entry.index >= storage.firstIndex() && storage.term(entry.index) !== entry.term)) {
      violation("apply-durable", `${node.id} is handed entry ${entry.index}/${entry.term} to apply, which its durable log does not hold`);
    }
    const digest = digestOf(entry);
    const known = this.appliedAt.get(entry.index);
    if (known === undefined) {
      this.appliedAt.set(entry.index, { term: entry.term, digest });
    } else if (known.term !== entry.term || known.digest !== digest) {
      violation(
        "state-machine-safety",
        `${node.id} applies ${digest} (term ${entry.term}) at ${entry.index}, another node applied ${known.digest} (term ${known.term})`,
      );
    }
    this.recordCommitted(node, entry.index, entry.term, node.storage.hardState().term);
    if (entry.index > this.maxAppliedIndex) this.maxAppliedIndex = entry.index;
    return known === undefined;
  }
}
