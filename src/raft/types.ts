// The vocabulary of the Raft core: everything that goes in and comes out of it.
// The core is pure: it reads a LogStorage synchronously, is driven by step()/tick()/propose(),
// and returns its effects as data in a Ready. Nothing here does I/O.

export type NodeId = string;

export enum EntryType {
  /** Opaque application command (or an empty no-op when data is empty). */
  Normal = 0,
  /** Membership change; data is encodeConfChange(...) from confchange.ts. */
  ConfChange = 1,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** What must survive a crash besides the log. */
export interface HardState {
  term: number;
  /** Candidate voted for in `term`, "" when none. */
  vote: NodeId;
  commit: number;
}

/** A configuration: who votes and who only receives the log. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

/**
 * The point a log was compacted to (or a snapshot was taken at): every entry up to and including
 * `index` is folded into the state machine; `conf` is the configuration in force at `index`.
 */
export interface SnapshotMeta {
  index: number;
  term: number;
  conf: ConfState;
}

export enum Role {
  Follower = "follower",
  PreCandidate = "pre-candidate",
  Candidate = "candidate",
  Leader = "leader",
}

interface Envelope {
  from: NodeId;
  to: NodeId;
  /** Sender's term. 0 for messages that are term-less (none today). */
  term: number;
}

export type Message =
  | (Envelope & { type: "vote" | "preVote"; lastIndex: number; lastTerm: number; transfer: boolean })
  | (Envelope & { type: "voteResp" | "preVoteResp"; reject: boolean })
  | (Envelope & { type: "app"; prevIndex: number; prevTerm: number; entries: Entry[]; commit: number })
  /**
   * Reply to "app" (and to "snap"). Accepted: `index` is the follower's last index known to match.
   * Rejected: `index` is the prevIndex that failed, and the hint lets the leader skip a whole term
   * at a time: `hintIndex` is the highest index that may still match (the follower's last entry with
   * a term <= the rejected prevTerm) and `hintTerm` the follower's term there.
   */
  | (Envelope & { type: "appResp"; reject: boolean; index: number; hintIndex: number; hintTerm: number })
  /** `readSeq` > 0 marks a ReadIndex confirmation round. */
  | (Envelope & { type: "heartbeat"; commit: number; readSeq: number })
  | (Envelope & { type: "heartbeatResp"; readSeq: number })
  /**
   * Install a snapshot. The core emits it with `snapshot` unset: the runtime streams the state
   * machine's current snapshot to `to` in chunks and fills `snapshot` with that snapshot's meta when
   * it hands the message to the receiver's core (after the data arrived whole). The core never holds
   * snapshot data.
   */
  | (Envelope & { type: "snap"; snapshot?: SnapshotMeta })
  /** A follower (or learner) asks the leader for a read index on behalf of its client. */
  | (Envelope & { type: "readIndex"; ctx: string })
  /** `index` is 0 with reject=true when the leader cannot serve reads yet (or is not the leader). */
  | (Envelope & { type: "readIndexResp"; ctx: string; index: number; reject: boolean })
  /** Leadership transfer: start an election now, skipping pre-vote. */
  | (Envelope & { type: "timeoutNow" });

export type MessageType = Message["type"];

/** A linearizable read may be served once the state machine has applied `index`. */
export interface ReadState {
  ctx: string;
  index: number;
}

/** A read that could not be served: the caller should retry (perhaps on another node). */
export interface ReadFailure {
  ctx: string;
  reason: "not-leader" | "no-leader" | "not-ready";
}

export interface SoftState {
  leader: NodeId | null;
  role: Role;
  term: number;
}

/**
 * Everything the core wants done since the last advance(). The runtime, in this order:
 *  1. sends `sendNow` (the leader's replication traffic, which may leave before its own write);
 *  2. makes `snapshot` (if set), `entries` and `hardState` durable with one fsync
 *     (entries[0].index may be <= the stored last index: truncate from there, then append);
 *  3. sends `sendAfterPersist` (votes and acknowledgements that promise what was just persisted);
 *  4. calls advance(ready);
 *  5. applies `committedEntries` in order (they are already durable here, so this may start
 *     before step 2 and overlap with the next Ready);
 *  6. answers reads in `readStates` once applied >= index, and fails those in `readFailures`.
 * Between Readies, or while one is being written, Raft.takeCommitted() hands out entries that
 * became committed since: they apply after this Ready's `committedEntries`. While a Ready is being
 * written, a leader's Raft.takeEarlyMessages() hands out what it may send at once (appends of
 * entries proposed meanwhile); those entries are persisted by the next Ready.
 */
export interface Ready {
  softState: SoftState;
  hardState: HardState | null;
  entries: Entry[];
  /** A received snapshot to install: the runtime replaces state machine and log with it. */
  snapshot: SnapshotMeta | null;
  sendNow: Message[];
  sendAfterPersist: Message[];
  committedEntries: Entry[];
  readStates: ReadState[];
  readFailures: ReadFailure[];
}

/**
 * The stable part of the log, as durable storage holds it. Reads are synchronous and
 * deterministic; writes happen only through Ready (by the runtime, not the core).
 */
export interface LogStorage {
  /** Hard state and the compaction point as they were when the storage was opened. */
  initialState(): { hardState: HardState; snapshot: SnapshotMeta };
  /** Index of the first entry still present (snapshot.index + 1). */
  firstIndex(): number;
  /** Index of the last entry (snapshot.index when the log is empty). */
  lastIndex(): number;
  /** Term of entry `index`; valid for snapshot.index..lastIndex, otherwise throws. */
  term(index: number): number;
  /**
   * Entries [lo, hi) in order. Returns at least one entry (if lo < hi) and stops before the total
   * data size would exceed maxBytes.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Current compaction point. */
  snapshot(): SnapshotMeta;
}

export interface RaftConfig {
  id: NodeId;
  /** Ticks without hearing from a leader before starting an election (randomized in [n, 2n)). */
  electionTicks: number;
  /** Ticks between heartbeats; must be < electionTicks. */
  heartbeatTicks: number;
  /** Upper bound on entry data bytes in one "app" message (at least one entry is always sent). */
  maxBytesPerMessage: number;
  /** Upper bound on unacknowledged "app" messages to one follower in replicate state. */
  maxInflightMessages: number;
  /** Upper bound on data bytes of proposals not yet committed; past it propose() refuses. */
  maxUncommittedBytes: number;
  /** Pre-vote (dissertation 9.6) to keep partitioned nodes from disrupting the cluster. */
  preVote: boolean;
  /** A leader steps down if it has not heard from a quorum for an election timeout. */
  checkQuorum: boolean;
  /** Deterministic randomness in [0, 1): the only source the core uses. */
  random: () => number;
  /** Index the state machine has already applied (durably); entries up to it are not re-applied. */
  applied: number;
  /** Optional sink for the core's notable events (elections, step-downs). */
  logger?: (event: string) => void;
}

export const DEFAULT_RAFT_CONFIG = {
  electionTicks: 10,
  heartbeatTicks: 1,
  maxBytesPerMessage: 1 << 20,
  maxInflightMessages: 256,
  maxUncommittedBytes: 64 << 20,
  preVote: true,
  checkQuorum: true,
} as const;

export type ProposeResult =
  | { ok: true; index: number; term: number }
  | { ok: false; reason: "not-leader" | "transferring" | "too-many-uncommitted" | "conf-change-pending" | "invalid-conf-change"; leader: NodeId | null };

export type ConfChangeKind = "addVoter" | "addLearner" | "promote" | "remove";

export interface ConfChange {
  kind: ConfChangeKind;
  node: NodeId;
  /** Opaque to the core (the runtime stores addresses here). */
  context: Uint8Array;
}

export interface Status {
  id: NodeId;
  role: Role;
  term: number;
  vote: NodeId;
  leader: NodeId | null;
  commit: number;
  applied: number;
  lastIndex: number;
  firstIndex: number;
  conf: ConfState;
  progress: Record<NodeId, { match: number; next: number; state: "probe" | "replicate" | "snapshot" }>;
  transferee: NodeId | null;
}
