import { rm } from "node:fs/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { decodeConfChange } from "../raft/confchange";
import { Raft } from "../raft/raft";
import { DEFAULT_RAFT_CONFIG, EntryType, Role, type ConfChange, type Entry, type Message, type NodeId, type ProposeResult, type Ready, type SoftState } from "../raft/types";
import { KvStore, type ApplyResult } from "../kv/store";
import type { FileLogStorage } from "../storage";
import { decodeMemberAddress, type NodeConfig } from "./config";
import { ApplyQueue } from "./apply_queue";
import { ReadBatcher } from "./read_batcher";
import { AppliedWaiters, ProposalWaiters, ReadIndexWaiters, waitBounded } from "./waiters";

/** How this node reaches its peers (src/transport implements it). */
export interface PeerLink {
  send(msgs: Message[]): void;
  sendSnapshot(to: NodeId, term: number, chunks: AsyncIterable<Uint8Array>): Promise<boolean>;
  setPeer(id: NodeId, raftAddr: string): void;
}

export type Logger = (line: string) => void;

/** The most entries, and about the most entry bytes, applied in one state machine batch. */
const MAX_APPLY_BATCH = 1024;
const MAX_APPLY_BATCH_BYTES = 4 << 20;
/** Committed entries (or bytes) waiting to apply beyond which the loop waits for the apply to catch up. */
const MAX_PENDING_APPLY = 4 * MAX_APPLY_BATCH;
const MAX_PENDING_APPLY_BYTES = 4 * MAX_APPLY_BATCH_BYTES;

/**
 * The node runtime around the Raft core: the only place that owns time, disk and network for
 * consensus. It ticks the core, persists each Ready (one fsync per batch: proposals that arrive
 * while a write is in flight go into the next one), sends messages, applies committed entries to
 * the KV store and answers the clients waiting on them.
 */
export class RaftNode {
  readonly raft: Raft;
  private link: PeerLink | null = null;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private running = false;
  private rerun = false;
  private earlySendQueued = false;
  private stopped = false;
  /**
   * Applies run in order, overlapping with the next Ready's disk write. Entries committed while an
   * apply is in progress wait in `pendingApply` and go to the state machine together, as one
   * LevelDB batch (up to MAX_APPLY_BATCH entries or MAX_APPLY_BATCH_BYTES): when applying falls
   * behind, batches grow.
   */
  private applyChain: Promise<void> = Promise.resolve();
  private applying = false;
  private readonly pendingApply = new ApplyQueue(MAX_APPLY_BATCH, MAX_APPLY_BATCH_BYTES);
  private readonly proposals = new ProposalWaiters<ApplyResult>();
  private readonly appliedWaiters: AppliedWaiters;
  private readonly readWaiters: ReadIndexWaiters;
  private readonly readBatcher = new ReadBatcher(() => this.requestReadIndex());
  /** Snapshots received whole and handed to Raft, by index, waiting for Raft to ask for them. */
  private staged = new Map<number, string>();
  private stagingSeq = 0;
  private softState: SoftState;
  private leaderListeners = new Set<(s: SoftState) => void>();
  private sendingSnapshotTo = new Set<NodeId>();
  private compacting = false;
  private lastError: Error | null = null;

  constructor(
    private readonly config: NodeConfig,
    private readonly storage: FileLogStorage,
    readonly kv: KvStore,
    private readonly log: Logger,
    random: () => number = Math.random,
  ) {
    this.raft = new Raft(
      {
        ...DEFAULT_RAFT_CONFIG,
        id: config.id,
        electionTicks: config.electionTicks,
        heartbeatTicks: config.heartbeatTicks,
        random,
        applied: kv.appliedIndex(),
        logger: (e) => this.log(`raft ${e}`),
      },
      storage,
    );
    this.appliedWaiters = new AppliedWaiters(kv.appliedIndex());
    this.readWaiters = new ReadIndexWaiters(`${config.id}:${Date.now().toString(36)}`);
    this.softState = { leader: null, role: Role.Follower, term: 0 };
  }

  setLink(link: PeerLink): void {
    this.link = link;
    for (const [id, ctx] of Object.entries(this.kv.conf().contexts)) {
      const addr = decodeMemberAddress(ctx);
      if (addr && id !== this.config.id) link.setPeer(id, addr.raftAddr);
    }
  }

  /** Makes a member reachable before its membership entry has reached this node's log. */
  learnPeer(id: NodeId, raftAddr: string): void {
    if (id !== this.config.id && raftAddr) this.link?.setPeer(id, raftAddr);
  }

  start(): void {
    const { voters } = this.raft.status().conf;
    // A lone voter need not wait out an election timeout to lead.
    if (voters.length === 1 && voters[0] === this.config.id) this.raft.campaign();
    this.ticker = setInterval(() => {
      this.raft.tick();
      this.schedule();
    }, this.config.tickMs);
    this.schedule();
  }

  /** Stops ticking, waits for the in-flight write and applies, fails waiting clients. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    while (this.running) await new Promise((r) => setTimeout(r, 5));
    await this.applyChain;
    const err = new ConnectError("the node is shutting down; retry on another member", Code.Unavailable);
    // A write already replicated may still commit under the next leader: its outcome is unknown.
    this.proposals.failAll(new ConnectError("the node is shutting down; the write's outcome is unknown, check before retrying", Code.Unavailable));
    this.appliedWaiters.failAll(err);
    this.readWaiters.failAll(err);
  }

  // ------------------------------------------------------------------ inputs

  receive(msgs: Message[]): void {
    if (this.stopped) return;
    for (const m of msgs) this.raft.step(m);
    // An acknowledgement may commit entries while a write is in flight: they apply at once.
    const committed = this.raft.takeCommitted();
    if (committed.length > 0) this.enqueueApply(committed);
    this.schedule();
  }

  /** Receives a snapshot stream from the leader into a staging folder, then hands its meta to Raft. */
  async receiveSnapshot(from: NodeId, term: number, chunks: AsyncIterable<Uint8Array>): Promise<boolean> {
    const dir = `${this.config.kvDir}/kv-staging-${++this.stagingSeq}`;
    try {
      const meta = await KvStore.installSnapshot(dir, chunks);
      const previous = this.staged.get(meta.index);
      if (previous) await rm(previous, { recursive: true, force: true });
      this.staged.set(meta.index, dir);
      this.raft.step({ type: "snap", from, to: this.config.id, term, snapshot: { index: meta.index, term: meta.term, conf: meta.conf } });
      this.schedule();
      return true;
    } catch (err) {
      this.log(`snapshot from ${from} refused: ${(err as Error).message}`);
      await rm(dir, { recursive: true, force: true });
      return false;
    }
  }

  propose(data: Uint8Array, signal: AbortSignal | undefined): Promise<ApplyResult> {
    return this.waitProposal(this.raft.propose(data), signal);
  }

  async proposeConfChange(cc: ConfChange, signal: AbortSignal | undefined): Promise<ApplyResult> {
    const result = await this.waitProposal(this.raft.proposeConfChange(cc), signal);
    // The caller reads the new membership from the store next.
    await this.kv.writesSettled();
    return result;
  }

  private waitProposal(r: ProposeResult, signal: AbortSignal | undefined): Promise<ApplyResult> {
    if (!r.ok) return Promise.reject(proposeError(r));
    this.schedule();
    return this.proposals.wait(r.index, r.term, signal, this.config.requestTimeoutMs);
  }

  /** Resolves once this node's state machine reflects every write committed before the call. */
  async linearizableBarrier(signal: AbortSignal | undefined): Promise<void> {
    const deadline = Date.now() + this.config.requestTimeoutMs;
    for (;;) {
      try {
        const at = await waitBounded(this.readBatcher.next(), signal, Math.max(1, deadline - Date.now()), "the read");
        await this.appliedWaiters.wait(at, signal, Math.max(1, deadline - Date.now()));
        return;
      } catch (err) {
        const retryable = err instanceof ConnectError && (err.code === Code.Unavailable || err.code === Code.DeadlineExceeded);
        if (!retryable || signal?.aborted || Date.now() >= deadline) {
          if (err instanceof ConnectError && err.code === Code.DeadlineExceeded) {
            throw new ConnectError("no leader confirmed the read in time (no quorum?); retry", Code.Unavailable);
          }
          throw err;
        }
        await new Promise((r) => setTimeout(r, this.config.tickMs));
      }
    }
  }

  /** One ReadIndex request (shared by a batch of reads), given up after a couple of election timeouts. */
  private requestReadIndex(): Promise<number> {
    const attemptMs = this.config.tickMs * this.config.electionTicks * 2;
    const { ctx, index } = this.readWaiters.register(attemptMs);
    this.raft.readIndex(ctx);
    this.schedule();
    return index;
  }

  /** Waits (bounded) until some leader is known; returns it or null. */
  async waitForLeader(signal: AbortSignal | undefined, timeoutMs = this.config.leaderWaitMs): Promise<NodeId | null> {
    if (this.softState.leader) return this.softState.leader;
    return new Promise((resolve) => {
      const done = (leader: NodeId | null) => {
        clearTimeout(timer);
        this.leaderListeners.delete(listener);
        signal?.removeEventListener("abort", onAbort);
        resolve(leader);
      };
      const listener = (s: SoftState) => {
        if (s.leader) done(s.leader);
      };
      const onAbort = () => done(null);
      const timer = setTimeout(() => done(null), timeoutMs);
      this.leaderListeners.add(listener);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  onSoftState(listener: (s: SoftState) => void): () => void {
    this.leaderListeners.add(listener);
    return () => this.leaderListeners.delete(listener);
  }

  currentSoftState(): SoftState {
    return this.softState;
  }

  isLeader(): boolean {
    return this.softState.role === Role.Leader;
  }

  failure(): Error | null {
    return this.lastError;
  }

  // ------------------------------------------------------------------ the loop

  schedule(): void {
    if (this.running) {
      this.rerun = true;
      this.sendEarlySoon();
      return;
    }
    if (this.stopped && !this.raft.hasReady()) return;
    this.running = true;
    queueMicrotask(() => void this.run());
  }

  /**
   * While a Ready is being written, a leader sends what it may send before that write is done
   * (new entries to followers) once per turn, instead of after the write and the next Ready.
   */
  private sendEarlySoon(): void {
    if (this.earlySendQueued || this.softState.role !== Role.Leader) return;
    this.earlySendQueued = true;
    queueMicrotask(() => {
      this.earlySendQueued = false;
      if (!this.stopped) this.send(this.raft.takeEarlyMessages());
    });
  }

  private async run(): Promise<void> {
    try {
      do {
        this.rerun = false;
        while (this.raft.hasReady()) await this.handleReady(this.raft.ready());
      } while (this.rerun);
    } catch (err) {
      this.fail(err as Error);
    } finally {
      this.running = false;
    }
  }

  /** A failed fsync or apply leaves the node unable to keep its promises: stop serving. */
  private fail(err: Error): void {
    if (this.lastError) return;
    this.lastError = err;
    this.log(`fatal: ${err.stack ?? err}`);
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.proposals.failAll(new ConnectError(`node failed: ${err.message}`, Code.Internal));
  }

  private async handleReady(rd: Ready): Promise<void> {
    this.noteSoftState(rd.softState);
    this.send(rd.sendNow);
    // Committed entries are durable here and on a majority: they apply during this Ready's write.
    // Queued before the first await, so entries taken by receive() meanwhile come after them (a
    // Ready that installs a snapshot has none).
    if (rd.committedEntries.length > 0) this.enqueueApply(rd.committedEntries);
    if (rd.snapshot) await this.installSnapshot(rd.snapshot.index);
    if (this.mustPersist(rd)) {
      await this.storage.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot });
    }
    this.learnAddresses(rd.entries);
    this.send(rd.sendAfterPersist);
    this.raft.advance(rd);
    for (const r of rd.readStates) this.readWaiters.resolve(r.ctx, r.index);
    for (const f of rd.readFailures) {
      this.readWaiters.reject(f.ctx, new ConnectError(`read not served: ${f.reason}; retry`, Code.Unavailable));
    }
    // Backpressure: an apply that falls far behind holds up the next Ready instead of letting
    // committed entries pile up in memory without bound.
    if (this.pendingApply.length > MAX_PENDING_APPLY || this.pendingApply.bytes > MAX_PENDING_APPLY_BYTES) await this.applyChain;
  }

  /**
   * A Ready whose only change is a higher commit index needs no fsync: the commit index is a hint
   * that a restart recovers from the leader (and from the state machine's applied index), so it
   * is written only with the next entries or term/vote change (as etcd does).
   */
  private mustPersist(rd: Ready): boolean {
    if (rd.entries.length > 0 || rd.snapshot) return true;
    if (!rd.hardState) return false;
    const stored = this.storage.hardState();
    return rd.hardState.term !== stored.term || rd.hardState.vote !== stored.vote;
  }

  private enqueueApply(entries: Entry[]): void {
    if (this.lastError) return;
    this.pendingApply.push(entries);
    if (this.applying) return;
    this.applying = true;
    this.applyChain = this.drainApplies()
      .catch((err) => this.fail(err as Error))
      .finally(() => {
        this.applying = false;
      });
  }

  private async drainApplies(): Promise<void> {
    while (this.pendingApply.length > 0) await this.apply(this.pendingApply.take());
  }

  private async apply(entries: Entry[]): Promise<void> {
    // Clients hear their results while the batch is written: the entries are committed.
    await this.kv.applyEntries(entries, (results) => {
      for (const r of results) {
        const entry = entries[r.index - entries[0].index];
        this.proposals.applied(r.index, entry.term, r);
      }
    });
    const applied = this.kv.appliedIndex();
    this.appliedWaiters.advance(applied);
    this.maybeCompact(applied);
  }

  private async installSnapshot(index: number): Promise<void> {
    await this.applyChain;
    const dir = this.staged.get(index);
    if (!dir) throw new Error(`raft asked to install snapshot ${index} but only ${[...this.staged.keys()].join(", ") || "none"} is staged`);
    this.staged.delete(index);
    await this.kv.replaceWith(dir);
    // Snapshots at or below this one can never be asked for any more.
    for (const [i, other] of [...this.staged]) {
      if (i > index) continue;
      this.staged.delete(i);
      await rm(other, { recursive: true, force: true });
    }
    this.log(`installed snapshot at index ${index}`);
    this.proposals.skippedTo(index);
    this.appliedWaiters.advance(this.kv.appliedIndex());
    if (this.link) this.setLink(this.link);
  }

  private maybeCompact(applied: number): void {
    const first = this.storage.firstIndex();
    if (this.compacting || applied - first < this.config.snapshotEntries + this.config.retainEntries) return;
    const target = applied - this.config.retainEntries;
    this.compacting = true;
    // The state machine must be durable up to the compaction point before the log drops it.
    void this.kv
      .sync()
      .then(() => this.storage.compact(this.raft.snapshotMetaAt(target)))
      .then(() => this.log(`compacted log up to ${target}`))
      .catch((err) => this.log(`compaction failed: ${(err as Error).message}`))
      .finally(() => {
        this.compacting = false;
      });
  }

  private send(msgs: Message[]): void {
    if (msgs.length === 0 || !this.link) return;
    const plain: Message[] = [];
    for (const m of msgs) {
      if (m.type === "snap") this.streamSnapshot(m.to, m.term);
      else plain.push(m);
    }
    if (plain.length > 0) this.link.send(plain);
  }

  private streamSnapshot(to: NodeId, term: number): void {
    const link = this.link;
    if (!link || this.sendingSnapshotTo.has(to)) return;
    this.sendingSnapshotTo.add(to);
    this.log(`sending snapshot to ${to}`);
    void link
      .sendSnapshot(to, term, this.kv.createSnapshotStream())
      .catch(() => false)
      .then((ok) => {
        this.sendingSnapshotTo.delete(to);
        this.log(`snapshot to ${to} ${ok ? "delivered" : "failed"}`);
        this.raft.reportSnapshot(to, ok);
        this.schedule();
      });
  }

  /** Peers become reachable as soon as their membership entry is in the log. */
  private learnAddresses(entries: Entry[]): void {
    if (!this.link) return;
    for (const e of entries) {
      if (e.type !== EntryType.ConfChange) continue;
      const { change } = decodeConfChange(e.data);
      const addr = decodeMemberAddress(change.context);
      if (addr && change.node !== this.config.id) this.link.setPeer(change.node, addr.raftAddr);
    }
  }

  private noteSoftState(s: SoftState): void {
    const prev = this.softState;
    if (prev.leader === s.leader && prev.role === s.role && prev.term === s.term) return;
    this.softState = s;
    if (prev.leader !== s.leader) this.log(`leader is now ${s.leader ?? "unknown"} (term ${s.term}, this node ${s.role})`);
    for (const l of [...this.leaderListeners]) l(s);
  }
}

function proposeError(r: Extract<ProposeResult, { ok: false }>): ConnectError {
  switch (r.reason) {
    case "not-leader":
      return new ConnectError(`this node is not the leader${r.leader ? ` (leader: ${r.leader})` : ""}; retry`, Code.Unavailable);
    case "transferring":
      return new ConnectError("leadership is being transferred; retry shortly", Code.Unavailable);
    case "too-many-uncommitted":
      return new ConnectError("too many writes waiting to commit; slow down and retry", Code.ResourceExhausted);
    case "conf-change-pending":
      return new ConnectError("another membership change is still in progress; retry when it is done", Code.FailedPrecondition);
    case "invalid-conf-change":
      return new ConnectError("that membership change does not apply to the current members", Code.FailedPrecondition);
  }
}
