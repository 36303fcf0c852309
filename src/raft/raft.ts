import { applyConfChange, decodeConfChange, encodeConfChange } from "./confchange";
import { invariant } from "./invariant";
import { RaftLog } from "./log";
import { Progress } from "./progress";
import { committedByQuorum, voteOutcome } from "./quorum";
import { ReadIndexTracker, type PendingRead } from "./read_index";
import {
  EntryType,
  Role,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type LogStorage,
  type Message,
  type NodeId,
  type ProposeResult,
  type RaftConfig,
  type ReadFailure,
  type ReadState,
  type Ready,
  type SnapshotMeta,
  type Status,
} from "./types";

const APPLY_BATCH_BYTES = 16 << 20;
/** Messages a leader may send before its own write is durable (Raft dissertation 10.2.1). */
const LEADER_EARLY_TYPES = new Set<Message["type"]>(["app", "heartbeat", "snap", "timeoutNow", "readIndexResp"]);

type Outgoing = Message extends infer M ? (M extends Message ? Omit<M, "from" | "term"> & { term?: number } : never) : never;

/**
 * The Raft consensus core: a deterministic state machine over messages and ticks. It owns no
 * clock, disk or network; see Ready in types.ts for how a runtime carries out its decisions.
 */
export class Raft {
  readonly id: NodeId;
  private readonly cfg: RaftConfig;
  private readonly log: RaftLog;

  private term = 0;
  private vote: NodeId = "";
  private role: Role = Role.Follower;
  private leader: NodeId | null = null;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;

  /** Configurations in the log, oldest first; the last one is in force. The first is the snapshot's. */
  private confHistory: { index: number; conf: ConfState }[] = [];
  private progress = new Map<NodeId, Progress>();
  private votes = new Map<NodeId, boolean>();

  private transferee: NodeId | null = null;
  /** Index of the latest membership change appended by this leader (must commit before another). */
  private pendingConfIndex = 0;
  /** Proposal sizes not yet committed: [index, bytes], oldest first. */
  private uncommitted: [number, number][] = [];
  private uncommittedBytes = 0;
  private reads = new ReadIndexTracker();
  /** Reads received before this leader committed an entry of its term. */
  private readsBeforeCommit: { ctx: string; from: NodeId | null }[] = [];
  /** Commit index last propagated to followers with an "app". */
  private commitSent = 0;

  private sendNow: Message[] = [];
  private sendAfterPersist: Message[] = [];
  private readStates: ReadState[] = [];
  private readFailures: ReadFailure[] = [];
  private handedOutHardState: HardState;
  private readyInFlight = false;

  constructor(config: RaftConfig, storage: LogStorage) {
    invariant(config.heartbeatTicks < config.electionTicks, "heartbeatTicks must be < electionTicks");
    this.id = config.id;
    this.cfg = config;
    const { hardState, snapshot } = storage.initialState();
    this.log = new RaftLog(storage, hardState.commit, config.applied);
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.handedOutHardState = { ...hardState };
    this.rebuildConfHistory(snapshot, storage);
    this.becomeFollower(this.term, null);
    this.vote = hardState.vote;
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    if (this.role === Role.Leader) this.tickLeader();
    else this.tickElection();
  }

  step(m: Message): void {
    if (m.to !== this.id) return;
    if (m.term > this.term) {
      if ((m.type === "vote" || m.type === "preVote") && !m.transfer && this.inLease()) {
        // A leader we heard from recently is alive: ignore the disruptive candidate.
        return;
      }
      if (m.type === "preVote") {
        // Never change term on a pre-vote.
      } else if (m.type === "preVoteResp" && !m.reject) {
        // A granted pre-vote carries the future term; it is counted below.
      } else if (m.type === "app" || m.type === "heartbeat" || m.type === "snap") {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, null);
      }
    } else if (m.term < this.term) {
      if (m.type === "app" || m.type === "heartbeat") {
        // A stale leader: tell it our term so it steps down.
        this.send({ type: "appResp", to: m.from, reject: false, index: 0, hintIndex: 0, hintTerm: 0 });
      } else if (m.type === "preVote" || m.type === "vote") {
        // Tell a candidate behind us our term, so its next election can be at a term we accept.
        this.send({ type: m.type === "vote" ? "voteResp" : "preVoteResp", to: m.from, reject: true });
      }
      return;
    }

    switch (m.type) {
      case "vote":
      case "preVote":
        this.handleVoteRequest(m);
        return;
      case "timeoutNow":
        if (this.isVoter(this.id)) this.campaign(false, true);
        return;
      case "readIndex":
        this.handleReadIndexRequest(m.ctx, m.from);
        return;
    }

    switch (this.role) {
      case Role.Leader:
        this.stepLeader(m);
        return;
      case Role.Candidate:
      case Role.PreCandidate:
        this.stepCandidate(m);
        return;
      case Role.Follower:
        this.stepFollower(m);
        return;
    }
  }

  propose(data: Uint8Array): ProposeResult {
    const refused = this.refuseProposal(data.length);
    if (refused) return refused;
    return this.appendOwn(EntryType.Normal, data);
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    const refused = this.refuseProposal(0);
    if (refused) return refused;
    if (this.pendingConfIndex > this.log.committed) {
      return { ok: false, reason: "conf-change-pending", leader: this.leader };
    }
    const next = applyConfChange(this.conf(), cc);
    if (typeof next === "string") return { ok: false, reason: "invalid-conf-change", leader: this.leader };
    return this.appendOwn(EntryType.ConfChange, encodeConfChange({ change: cc, conf: next }));
  }

  readIndex(ctx: string): void {
    if (this.role === Role.Leader) {
      this.handleReadIndexRequest(ctx, null);
    } else if (this.leader !== null) {
      this.send({ type: "readIndex", to: this.leader, ctx });
    } else {
      this.readFailures.push({ ctx, reason: "no-leader" });
    }
  }

  transferLeadership(to: NodeId): boolean {
    if (this.role !== Role.Leader || to === this.id || !this.conf().voters.includes(to)) return false;
    if (this.transferee === to) return true;
    this.transferee = to;
    this.electionElapsed = 0;
    const pr = this.progress.get(to) as Progress;
    if (pr.match === this.log.lastIndex()) this.send({ type: "timeoutNow", to });
    else this.sendAppend(to);
    return true;
  }

  campaign(): void;
  campaign(pre: boolean, transfer: boolean): void;
  campaign(pre?: boolean, transfer = false): void {
    if (!this.isVoter(this.id) || this.role === Role.Leader) return;
    const usePreVote = pre ?? this.cfg.preVote;
    if (usePreVote) this.becomePreCandidate();
    else this.becomeCandidate();
    const voteTerm = usePreVote ? this.term + 1 : this.term;
    const type = usePreVote ? "preVote" : "vote";
    this.votes.set(this.id, true);
    if (this.pollElection()) return;
    for (const v of this.conf().voters) {
      if (v === this.id) continue;
      this.send({ type, to: v, term: voteTerm, lastIndex: this.log.lastIndex(), lastTerm: this.log.lastTerm(), transfer });
    }
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    const pr = this.progress.get(to);
    if (this.role !== Role.Leader || !pr || pr.state !== "snapshot") return;
    pr.becomeProbe();
    // On failure wait for the next heartbeat answer before trying again.
    if (!ok) pr.probeSent = true;
  }

  // ---------------------------------------------------------------- outputs

  hasReady(): boolean {
    if (this.readyInFlight) return false;
    return (
      this.sendNow.length > 0 ||
      this.sendAfterPersist.length > 0 ||
      this.readStates.length > 0 ||
      this.readFailures.length > 0 ||
      this.log.hasUnsentEntries() ||
      this.log.hasUnsentSnapshot() ||
      this.log.hasCommittedToApply() ||
      this.hardStateChanged() ||
      (this.role === Role.Leader && (this.log.committed > this.commitSent || this.reads.wantsRound()))
    );
  }

  ready(): Ready {
    invariant(!this.readyInFlight, "ready() called again before advance()");
    if (this.role === Role.Leader) {
      this.broadcastAppend(this.log.committed > this.commitSent);
      this.commitSent = this.log.committed;
      const round = this.reads.startRound();
      if (round !== null) this.broadcastHeartbeat(round);
    }
    const { entries, snapshot } = this.log.takeUnstable();
    const hs = this.hardState();
    const rd: Ready = {
      softState: { leader: this.leader, role: this.role, term: this.term },
      hardState: this.hardStateChanged() ? hs : null,
      entries,
      snapshot,
      sendNow: this.sendNow,
      sendAfterPersist: this.sendAfterPersist,
      // Nothing past an unstable snapshot is durable, so a Ready never both installs and applies.
      committedEntries: snapshot ? [] : this.log.takeCommitted(APPLY_BATCH_BYTES),
      readStates: this.readStates,
      readFailures: this.readFailures,
    };
    this.handedOutHardState = hs;
    this.sendNow = [];
    this.sendAfterPersist = [];
    this.readStates = [];
    this.readFailures = [];
    this.readyInFlight = true;
    return rd;
  }

  advance(rd: Ready): void {
    invariant(this.readyInFlight, "advance() without a Ready");
    this.readyInFlight = false;
    if (rd.snapshot) this.log.stableSnapshotTo(rd.snapshot.index);
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      this.log.stableTo(last.index, last.term);
    }
    if (this.role === Role.Leader) {
      const self = this.progress.get(this.id);
      if (self && self.maybeUpdate(this.log.stableIndex())) this.maybeCommit();
    }
  }

  /**
   * A leader's messages that need nothing of its own persisted first (appends of the entries
   * proposed since the last Ready, heartbeats, read answers), taken while a Ready is being
   * written, so that followers need not wait for the leader's own write to receive new entries
   * (Raft allows a leader to write its log in parallel with replicating it: it counts itself
   * towards a commit only once advance() reports its write done). Empty for anyone else.
   */
  takeEarlyMessages(): Message[] {
    if (this.role !== Role.Leader || !this.readyInFlight) return [];
    this.broadcastAppend(false);
    const out = this.sendNow;
    this.sendNow = [];
    return out;
  }

  /**
   * Committed entries not handed out yet, taken between Readies or while one is being written:
   * an acknowledgement that commits earlier entries need not wait for the write in flight.
   * Entries come out once each and in order, across these calls and Ready.committedEntries.
   */
  takeCommitted(): Entry[] {
    return this.log.takeCommitted(APPLY_BATCH_BYTES);
  }

  snapshotMetaAt(index: number): SnapshotMeta {
    invariant(index >= this.log.firstIndex() - 1 && index <= this.log.committed, `snapshotMetaAt(${index}) outside ${this.log.firstIndex() - 1}..${this.log.committed}`);
    const term = this.log.term(index) as number;
    let conf = this.confHistory[0].conf;
    for (const h of this.confHistory) if (h.index <= index) conf = h.conf;
    return { index, term, conf: { voters: [...conf.voters], learners: [...conf.learners] } };
  }

  status(): Status {
    const progress: Status["progress"] = {};
    if (this.role === Role.Leader) {
      for (const [id, pr] of this.progress) progress[id] = { match: pr.match, next: pr.next, state: pr.state };
    }
    const conf = this.conf();
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leader: this.leader,
      commit: this.log.committed,
      applied: this.log.applying,
      lastIndex: this.log.lastIndex(),
      firstIndex: this.log.firstIndex(),
      conf: { voters: [...conf.voters], learners: [...conf.learners] },
      progress,
      transferee: this.transferee,
    };
  }

  // ---------------------------------------------------------------- roles

  private becomeFollower(term: number, leader: NodeId | null): void {
    const wasLeader = this.role === Role.Leader;
    if (term !== this.term) {
      this.term = term;
      this.vote = "";
    }
    this.role = Role.Follower;
    this.leader = leader;
    this.resetTimers();
    this.transferee = null;
    if (wasLeader) this.loseLeadership();
  }

  private becomePreCandidate(): void {
    // Neither term nor vote change: a pre-vote only asks whether an election could be won.
    this.role = Role.PreCandidate;
    this.leader = null;
    this.votes = new Map();
    this.resetTimers();
    this.log_(`pre-candidate at term ${this.term}`);
  }

  private becomeCandidate(): void {
    this.term += 1;
    this.vote = this.id;
    this.role = Role.Candidate;
    this.leader = null;
    this.votes = new Map();
    this.resetTimers();
    this.log_(`candidate at term ${this.term}`);
  }

  private becomeLeader(): void {
    invariant(this.role === Role.Candidate, "only a candidate becomes leader");
    this.role = Role.Leader;
    this.leader = this.id;
    this.resetTimers();
    this.progress = new Map();
    this.syncProgressWithConf();
    const self = this.progress.get(this.id);
    if (self) self.maybeUpdate(this.log.stableIndex());
    this.uncommitted = [];
    this.uncommittedBytes = 0;
    this.commitSent = this.log.committed;
    this.appendOwn(EntryType.Normal, new Uint8Array(0));
    // No membership change until this term's no-op (and so everything before it) has committed.
    this.pendingConfIndex = this.log.lastIndex();
    this.log_(`leader at term ${this.term}`);
  }

  private loseLeadership(): void {
    for (const r of this.reads.drain()) this.failRead(r.ctx, r.from, "not-leader");
    for (const r of this.readsBeforeCommit) this.failRead(r.ctx, r.from, "not-leader");
    this.readsBeforeCommit = [];
    this.progress = new Map();
    this.uncommitted = [];
    this.uncommittedBytes = 0;
  }

  private resetTimers(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    const n = this.cfg.electionTicks;
    this.randomizedElectionTimeout = n + Math.floor(this.cfg.random() * n);
  }

  // ---------------------------------------------------------------- ticks

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout && this.isVoter(this.id)) {
      this.electionElapsed = 0;
      this.campaign();
    }
  }

  private tickLeader(): void {
    this.electionElapsed++;
    this.heartbeatElapsed++;
    for (const pr of this.progress.values()) pr.ticksSinceAck++;
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum && !this.quorumActive()) {
        this.log_(`stepping down at term ${this.term}: no quorum heard from`);
        this.becomeFollower(this.term, null);
        return;
      }
      // A transfer that has not finished within an election timeout is abandoned.
      this.transferee = null;
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat(0);
    }
  }

  private quorumActive(): boolean {
    const voters = this.conf().voters;
    let active = 0;
    for (const v of voters) {
      const pr = this.progress.get(v);
      if (v === this.id || pr?.recentActive) active++;
    }
    for (const pr of this.progress.values()) pr.recentActive = false;
    return active >= Math.floor(voters.length / 2) + 1;
  }

  /** Followers that heard from a live leader within the election timeout refuse to vote. */
  private inLease(): boolean {
    return this.cfg.checkQuorum && this.leader !== null && this.electionElapsed < this.cfg.electionTicks;
  }

  // ---------------------------------------------------------------- elections

  private handleVoteRequest(m: Extract<Message, { type: "vote" | "preVote" }>): void {
    const pre = m.type === "preVote";
    const canVote =
      this.vote === m.from ||
      (this.vote === "" && this.leader === null) ||
      (pre && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)) {
      this.send({ type: pre ? "preVoteResp" : "voteResp", to: m.from, term: m.term, reject: false });
      if (!pre) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: pre ? "preVoteResp" : "voteResp", to: m.from, reject: true });
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case "app":
      case "heartbeat":
      case "snap":
        this.becomeFollower(m.term, m.from);
        this.stepFollower(m);
        return;
      case "voteResp":
      case "preVoteResp": {
        const expected = this.role === Role.PreCandidate ? "preVoteResp" : "voteResp";
        if (m.type !== expected) return;
        const electionTerm = this.role === Role.PreCandidate ? this.term + 1 : this.term;
        if (m.term !== electionTerm && !m.reject) return;
        this.votes.set(m.from, !m.reject);
        this.pollElection();
        return;
      }
    }
  }

  /** Counts votes; acts on a decided election. Returns true if decided. */
  private pollElection(): boolean {
    const outcome = voteOutcome(this.conf().voters, this.votes);
    if (outcome === "won") {
      if (this.role === Role.PreCandidate) this.campaign(false, false);
      else this.becomeLeader();
      return true;
    }
    if (outcome === "lost") {
      this.becomeFollower(this.term, null);
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- follower

  private stepFollower(m: Message): void {
    switch (m.type) {
      case "app":
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleAppend(m);
        return;
      case "heartbeat":
        this.electionElapsed = 0;
        this.leader = m.from;
        this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
        this.send({ type: "heartbeatResp", to: m.from, readSeq: m.readSeq });
        return;
      case "snap":
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleSnapshot(m);
        return;
      case "readIndexResp":
        if (m.reject) this.readFailures.push({ ctx: m.ctx, reason: "not-ready" });
        else this.readStates.push({ ctx: m.ctx, index: m.index });
        return;
    }
  }

  private handleAppend(m: Extract<Message, { type: "app" }>): void {
    if (m.prevIndex < this.log.committed) {
      this.send({ type: "appResp", to: m.from, reject: false, index: this.log.committed, hintIndex: 0, hintTerm: 0 });
      return;
    }
    const before = this.log.lastIndex();
    const result = this.log.maybeAppend(m.prevIndex, m.prevTerm, m.commit, m.entries);
    if (result !== null) {
      if (result.appended.length > 0) this.trackConfEntries(result.appended, before);
      this.send({ type: "appResp", to: m.from, reject: false, index: result.lastNew, hintIndex: 0, hintTerm: 0 });
      return;
    }
    const hint = this.log.findConflictByTerm(Math.min(m.prevIndex, this.log.lastIndex()), m.prevTerm);
    this.send({ type: "appResp", to: m.from, reject: true, index: m.prevIndex, hintIndex: hint.index, hintTerm: hint.term });
  }

  private handleSnapshot(m: Extract<Message, { type: "snap" }>): void {
    const meta = m.snapshot;
    if (!meta) return;
    if (meta.index <= this.log.committed) {
      this.send({ type: "appResp", to: m.from, reject: false, index: this.log.committed, hintIndex: 0, hintTerm: 0 });
      return;
    }
    if (this.log.matchTerm(meta.index, meta.term)) {
      // We already have the snapshot's entries: just learn that they are committed.
      this.log.commitTo(meta.index);
      this.send({ type: "appResp", to: m.from, reject: false, index: this.log.committed, hintIndex: 0, hintTerm: 0 });
      return;
    }
    this.log_(`restoring snapshot at ${meta.index} (term ${meta.term})`);
    this.log.restore({ index: meta.index, term: meta.term, conf: { voters: [...meta.conf.voters], learners: [...meta.conf.learners] } });
    this.confHistory = [{ index: meta.index, conf: meta.conf }];
    this.send({ type: "appResp", to: m.from, reject: false, index: meta.index, hintIndex: 0, hintTerm: 0 });
  }

  // ---------------------------------------------------------------- leader

  private stepLeader(m: Message): void {
    const pr = this.progress.get(m.from);
    switch (m.type) {
      case "appResp":
        if (!pr) return;
        pr.recentActive = true;
        this.handleAppendResponse(m, pr);
        return;
      case "heartbeatResp":
        if (!pr) return;
        pr.recentActive = true;
        pr.probeSent = false;
        if (pr.state === "replicate" && pr.match < this.log.lastIndex() && pr.ticksSinceAck > 2 * this.cfg.heartbeatTicks + 1) {
          // Entries in flight for a while with no answer: they were lost; resend from match.
          pr.becomeProbe();
        }
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
        if (m.readSeq > 0 && this.isVoter(m.from)) {
          this.reads.ack(m.from, m.readSeq);
          this.releaseReads();
        }
        return;
    }
  }

  private handleAppendResponse(m: Extract<Message, { type: "appResp" }>, pr: Progress): void {
    if (m.reject) {
      const guess = this.log.findConflictByTerm(m.hintIndex, m.hintTerm).index + 1;
      if (pr.maybeDecrTo(m.index, guess)) {
        if (pr.state === "replicate") pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const moved = pr.maybeUpdate(m.index);
    if (pr.state === "probe" && pr.match === m.index) pr.becomeReplicate();
    else if (pr.state === "snapshot" && pr.match + 1 >= this.log.firstIndex()) pr.becomeReplicate();
    else if (pr.state === "replicate") pr.freeInflightTo(m.index);
    if (moved) this.maybeCommit();
    if (this.role !== Role.Leader) return;
    if (m.from === this.transferee && pr.match === this.log.lastIndex()) {
      this.send({ type: "timeoutNow", to: m.from });
    }
    while (!pr.isPaused() && pr.next <= this.log.lastIndex()) {
      if (!this.sendAppend(m.from)) break;
    }
  }

  private maybeCommit(): void {
    const voters = this.conf().voters;
    const index = committedByQuorum(voters, (id) => this.progress.get(id)?.match ?? 0);
    if (!this.log.maybeCommit(index, this.term)) return;
    while (this.uncommitted.length > 0 && this.uncommitted[0][0] <= this.log.committed) {
      this.uncommittedBytes -= (this.uncommitted.shift() as [number, number])[1];
    }
    if (this.readsBeforeCommit.length > 0 && this.log.term(this.log.committed) === this.term) {
      const waiting = this.readsBeforeCommit;
      this.readsBeforeCommit = [];
      for (const r of waiting) this.handleReadIndexRequest(r.ctx, r.from);
    }
    this.afterCommitAdvance();
  }

  /** A membership change that removed this leader takes it out once committed. */
  private afterCommitAdvance(): void {
    const conf = this.conf();
    if (this.pendingConfIndex <= this.log.committed && !conf.voters.includes(this.id) && !conf.learners.includes(this.id)) {
      this.log_(`removed from the configuration; stepping down at term ${this.term}`);
      this.becomeFollower(this.term, null);
    }
  }

  /** Sends the next "app" (or a snapshot) to `to`. Returns false if nothing could be sent. */
  private sendAppend(to: NodeId): boolean {
    const pr = this.progress.get(to);
    if (!pr || to === this.id || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined || pr.next < this.log.firstIndex()) {
      pr.becomeSnapshot();
      this.send({ type: "snap", to });
      return true;
    }
    const last = this.log.lastIndex();
    const entries = pr.next <= last ? this.log.entries(pr.next, last + 1, this.cfg.maxBytesPerMessage) : [];
    if (entries.length === 0 && pr.state === "replicate") return false;
    this.send({ type: "app", to, prevIndex, prevTerm, entries, commit: this.log.committed });
    if (entries.length > 0) pr.sentEntries(entries[entries.length - 1].index);
    else pr.sentProbe();
    return true;
  }

  /** Sends pending entries to every follower; with `commitOnly` also an empty "app" to carry the commit index. */
  private broadcastAppend(commitOnly: boolean): void {
    for (const id of this.progress.keys()) {
      if (id === this.id) continue;
      const pr = this.progress.get(id) as Progress;
      let sent = false;
      while (!pr.isPaused() && pr.next <= this.log.lastIndex()) {
        if (!this.sendAppend(id)) break;
        sent = true;
      }
      // A probe whose next is past our log (a new member) still needs one message to find its place.
      if (!sent && pr.state === "probe" && !pr.isPaused() && pr.match < this.log.lastIndex()) sent = this.sendAppend(id);
      if (!sent && commitOnly && pr.state === "replicate") this.sendCommit(id, pr);
    }
  }

  /** An empty "app" anchored at what the follower surely has, so it can never be rejected. */
  private sendCommit(to: NodeId, pr: Progress): void {
    const prevTerm = this.log.term(pr.match);
    if (prevTerm === undefined) return;
    this.send({ type: "app", to, prevIndex: pr.match, prevTerm, entries: [], commit: this.log.committed });
  }

  private broadcastHeartbeat(readSeq: number): void {
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      this.send({ type: "heartbeat", to: id, commit: Math.min(pr.match, this.log.committed), readSeq });
    }
  }

  private refuseProposal(bytes: number): ProposeResult | null {
    if (this.role !== Role.Leader) return { ok: false, reason: "not-leader", leader: this.leader };
    if (this.transferee !== null) return { ok: false, reason: "transferring", leader: this.leader };
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.cfg.maxUncommittedBytes) {
      return { ok: false, reason: "too-many-uncommitted", leader: this.leader };
    }
    return null;
  }

  private appendOwn(type: EntryType, data: Uint8Array): ProposeResult {
    const entry: Entry = { term: this.term, index: this.log.lastIndex() + 1, type, data };
    const before = this.log.lastIndex();
    this.log.append([entry]);
    if (data.length > 0) {
      this.uncommitted.push([entry.index, data.length]);
      this.uncommittedBytes += data.length;
    }
    if (type === EntryType.ConfChange) {
      this.pendingConfIndex = entry.index;
      this.trackConfEntries([entry], before);
    }
    // A single voter commits on its own write; anyone else hears at the next ready().
    return { ok: true, index: entry.index, term: entry.term };
  }

  // ---------------------------------------------------------------- reads

  private handleReadIndexRequest(ctx: string, from: NodeId | null): void {
    if (this.role !== Role.Leader) {
      this.failRead(ctx, from, this.leader === null ? "no-leader" : "not-leader");
      return;
    }
    if (this.log.term(this.log.committed) !== this.term) {
      // The leader's commit index is not known to be current until its no-op commits.
      this.readsBeforeCommit.push({ ctx, from });
      return;
    }
    const voters = this.conf().voters;
    if (voters.length === 1 && voters[0] === this.id) {
      this.answerRead({ ctx, index: this.log.committed, round: 0, from });
      return;
    }
    this.reads.add(ctx, this.log.committed, from);
  }

  private releaseReads(): void {
    for (const r of this.reads.release(this.conf().voters, this.id)) this.answerRead(r);
  }

  private answerRead(r: PendingRead): void {
    if (r.from === null || r.from === this.id) this.readStates.push({ ctx: r.ctx, index: r.index });
    else this.send({ type: "readIndexResp", to: r.from, ctx: r.ctx, index: r.index, reject: false });
  }

  private failRead(ctx: string, from: NodeId | null, reason: ReadFailure["reason"]): void {
    if (from === null || from === this.id) this.readFailures.push({ ctx, reason });
    else this.send({ type: "readIndexResp", to: from, ctx, index: 0, reject: true });
  }

  // ---------------------------------------------------------------- membership

  private conf(): ConfState {
    return this.confHistory[this.confHistory.length - 1].conf;
  }

  private isVoter(id: NodeId): boolean {
    return this.conf().voters.includes(id);
  }

  private rebuildConfHistory(snapshot: SnapshotMeta, storage: LogStorage): void {
    this.confHistory = [{ index: snapshot.index, conf: snapshot.conf }];
    let lo = storage.firstIndex();
    const hi = storage.lastIndex() + 1;
    while (lo < hi) {
      const batch = storage.entries(lo, hi, 8 << 20);
      for (const e of batch) {
        if (e.type === EntryType.ConfChange) this.confHistory.push({ index: e.index, conf: decodeConfChange(e.data).conf });
      }
      lo = batch[batch.length - 1].index + 1;
    }
  }

  /**
   * A configuration takes effect as soon as its entry is in the log; entries that overwrite the log
   * from `entries[0].index` drop the configurations they replace.
   */
  private trackConfEntries(entries: Entry[], lastIndexBefore: number): void {
    const from = entries[0].index;
    let changed = false;
    if (from <= lastIndexBefore) {
      while (this.confHistory.length > 1 && this.confHistory[this.confHistory.length - 1].index >= from) {
        this.confHistory.pop();
        changed = true;
      }
    }
    for (const e of entries) {
      if (e.type === EntryType.ConfChange) {
        this.confHistory.push({ index: e.index, conf: decodeConfChange(e.data).conf });
        changed = true;
      }
    }
    this.pruneConfHistory();
    if (changed && this.role === Role.Leader) {
      this.syncProgressWithConf();
      this.maybeCommit();
    }
  }

  private pruneConfHistory(): void {
    const base = this.log.firstIndex() - 1;
    while (this.confHistory.length > 1 && this.confHistory[1].index <= base) this.confHistory.shift();
  }

  private syncProgressWithConf(): void {
    const conf = this.conf();
    const members = new Set([...conf.voters, ...conf.learners]);
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      const learner = conf.learners.includes(id);
      const pr = this.progress.get(id);
      if (pr) pr.isLearner = learner;
      else {
        const fresh = new Progress(this.log.lastIndex() + 1, learner, this.cfg.maxInflightMessages);
        fresh.recentActive = true;
        this.progress.set(id, fresh);
      }
    }
    if (this.transferee !== null && !conf.voters.includes(this.transferee)) this.transferee = null;
  }

  // ---------------------------------------------------------------- plumbing

  private send(m: Outgoing): void {
    const full = { ...m, from: this.id, term: m.term ?? this.term } as Message;
    if (this.role === Role.Leader && LEADER_EARLY_TYPES.has(full.type)) this.sendNow.push(full);
    else this.sendAfterPersist.push(full);
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private hardStateChanged(): boolean {
    const h = this.handedOutHardState;
    return h.term !== this.term || h.vote !== this.vote || h.commit !== this.log.committed;
  }

  private log_(event: string): void {
    this.cfg.logger?.(`${this.id}: ${event}`);
  }
}
