// The runtime loop of a node, following the Ready contract in src/raft/types.ts: send sendNow,
// persist (possibly later: the disk completes the write some ticks on), send sendAfterPersist,
// advance, apply committed entries, answer reads; plus log compaction and snapshot installs.
import { EntryType, type Message, type NodeId, type Ready } from "../../../src/raft/types";
import { violation } from "./failure";
import type { Network } from "./network";
import type { SafetyChecker } from "./safety_checker";
import { snapshotKey, type SimNode } from "./sim_node";
import type { SnapshotReceiver, SnapshotTransfers } from "./snapshot_transfer";
import { payloadOf, type StateMachineSnapshot } from "./state_machine";
import type { Workload } from "./workload";
import type { World } from "./world";

type SnapMessage = Extract<Message, { type: "snap" }>;

/** Readies taken in a row without a pause; more means the core never runs dry. */
const MAX_READY_LOOP = 1000;

export interface MembershipListener {
  /** A membership change entry was applied for the first time anywhere. */
  onConfChangeCommitted(index: number, entryData: Uint8Array): void;
}

export class NodeRuntime implements SnapshotReceiver {
  transfers: SnapshotTransfers | null = null;

  constructor(
    private readonly world: World,
    private readonly network: Network,
    private readonly checker: SafetyChecker,
    private readonly workload: Workload,
    private readonly membership: MembershipListener,
  ) {}

  /** Takes and handles Readies until the core has nothing more or a write is in flight. */
  drive(node: SimNode): void {
    for (let n = 0; n < MAX_READY_LOOP; n++) {
      const raft = node.raft;
      if (!raft || node.pendingWrite || !raft.hasReady()) {
        // As src/node/raft_node.ts does: a leader whose write is in flight sends new entries now.
        if (raft && node.pendingWrite) this.sendEarly(node);
        this.observe(node);
        return;
      }
      const rd = raft.ready();
      this.send(node, rd.sendNow);
      // As src/node/raft_node.ts does: committed entries apply while the Ready is being written
      // (a Ready that installs a snapshot has none).
      this.applyAll(node, rd.committedEntries);
      const w = this.world;
      const p = w.params.faults;
      if (w.rng.chance(p.diskDelayRate)) {
        w.counters.diskDelay++;
        node.pendingWrite = rd;
        w.events.push(w.now + w.rng.int(1, p.maxDiskDelay), w.rng.next(), { kind: "diskDone", node: node.id, incarnation: node.incarnation });
        this.observe(node);
        return;
      }
      this.persistAndApply(node, rd);
    }
    violation("ready-loop", `${node.id} still hasReady() after ${MAX_READY_LOOP} Readies in one step`);
  }

  private sendEarly(node: SimNode): void {
    const early = node.core().takeEarlyMessages();
    for (const m of early) if (m.type === "app" && m.entries.length > 0) this.world.counters.appendsSentDuringWrite++;
    this.send(node, early);
  }

  /** The disk finished the write in flight on `node`. */
  completeWrite(node: SimNode): void {
    const rd = node.pendingWrite;
    if (!rd) return;
    node.pendingWrite = null;
    this.persistAndApply(node, rd);
    this.drive(node);
  }

  /** After each step: election safety and the core's counters. */
  observe(node: SimNode): void {
    if (node.raft) this.checker.observeStatus(node, node.raft.status());
  }

  private applyAll(node: SimNode, entries: Ready["committedEntries"]): void {
    for (const entry of entries) this.apply(node, entry.index, entry);
  }

  private persistAndApply(node: SimNode, rd: Ready): void {
    const storage = node.storage;
    if (rd.snapshot) {
      const meta = rd.snapshot;
      const staged = node.staged.get(snapshotKey(meta.index, meta.term));
      if (!staged) violation("snapshot-install", `${node.id}'s Ready holds snapshot ${meta.index}/${meta.term}, which it never received`);
      if (JSON.stringify(staged.meta.conf) !== JSON.stringify(meta.conf)) {
        violation("snapshot-install", `${node.id}'s Ready holds snapshot ${meta.index}/${meta.term} with a conf other than the one received`);
      }
      if (meta.index <= node.sm.appliedIndex) {
        violation("snapshot-install", `${node.id} is told to install snapshot ${meta.index} but already applied ${node.sm.appliedIndex}`);
      }
      storage.applySnapshot(meta);
      node.sm.install(staged);
      for (const key of [...node.staged.keys()]) {
        const idx = Number(key.split("/")[0]);
        if (idx <= meta.index) node.staged.delete(key);
      }
      this.checker.afterSnapshot(node, meta, storage);
      this.world.counters.snapshotsInstalled++;
      this.world.trace.record(this.world.now, `${node.id} installed snapshot ${meta.index}/${meta.term}`);
    }
    if (rd.entries.length > 0) {
      this.checker.beforeAppend(node, rd.entries);
      try {
        storage.append(rd.entries);
      } catch (e) {
        violation("storage-contract", `${node.id}: ${(e as Error).message}`);
      }
      this.checker.afterAppend(node, rd.entries);
    }
    if (rd.hardState) {
      this.checker.beforeHardState(node, rd.hardState);
      storage.setHardState(rd.hardState);
      this.checker.afterHardState(node, rd.hardState);
    }
    this.send(node, rd.sendAfterPersist);
    node.core().advance(rd);
    for (const rs of rd.readStates) this.workload.onReadState(node, rs);
    for (let i = 0; i < rd.readFailures.length; i++) this.workload.onReadFailure();
    this.maybeCompact(node);
  }

  private apply(node: SimNode, index: number, entry: Ready["committedEntries"][number]): void {
    const first = this.checker.beforeApply(node, entry);
    if (entry.type === EntryType.Normal && entry.data.length > 0) {
      this.workload.onApply(node, payloadOf(entry), index, entry.term);
    }
    node.sm.apply(entry);
    if (first && entry.type === EntryType.ConfChange) this.membership.onConfChangeCommitted(index, entry.data);
  }

  private maybeCompact(node: SimNode): void {
    const w = this.world;
    const raft = node.raft;
    if (!raft) return;
    const storage = node.storage;
    const applied = node.sm.appliedIndex;
    if (applied - storage.snapshot().index < w.params.workload.compactEvery) return;
    // snapshotMetaAt needs firstIndex-1 <= index as the core sees it (a restore may be under way).
    const low = Math.max(storage.firstIndex() - 1, raft.status().firstIndex - 1, applied - w.params.workload.compactLag);
    if (low > applied) return;
    const index = Math.min(w.rng.int(low, applied), storage.lastIndex());
    const meta = raft.snapshotMetaAt(index);
    if (meta.index !== index || meta.term !== storage.term(index)) {
      violation("snapshot-meta", `${node.id} snapshotMetaAt(${index}) = ${meta.index}/${meta.term}, storage has term ${storage.term(index)}`);
    }
    storage.compact(meta);
    w.counters.compactions++;
  }

  private send(node: SimNode, msgs: Message[]): void {
    for (const msg of msgs) {
      if (msg.from !== node.id) violation("message-sender", `${node.id} emitted a message from ${msg.from}`);
      if (msg.type === "voteResp" && !msg.reject) this.checker.onVoteGranted(node.id, msg.term, msg.to);
      if (msg.type === "snap") {
        if (!this.transfers) throw new Error("snapshot transfers not wired");
        this.transfers.start(node, msg);
        continue;
      }
      const to = this.world.nodes.get(msg.to);
      this.network.send({
        kind: "raft",
        from: node.id,
        to: msg.to,
        fromIncarnation: node.incarnation,
        toIncarnation: to && to.alive ? to.incarnation : -1,
        msg,
      });
    }
  }

  /** A Raft message arrives at `node`. */
  deliver(node: SimNode, msg: Message): void {
    this.world.counters.messagesDelivered++;
    this.world.trace.record(this.world.now, "deliver", msg);
    node.core().step(msg);
    // An acknowledgement may commit entries while a write is in flight: they apply at once.
    const committed = node.core().takeCommitted();
    if (node.pendingWrite) this.world.counters.appliedDuringWrite += committed.length;
    this.applyAll(node, committed);
    this.drive(node);
  }

  receiveSnapshot(follower: SimNode, msg: SnapMessage, snapshot: StateMachineSnapshot): void {
    const meta = snapshot.meta;
    follower.staged.set(snapshotKey(meta.index, meta.term), snapshot);
    const filled: SnapMessage = { ...msg, snapshot: meta };
    this.world.trace.record(this.world.now, "deliver", filled);
    follower.core().step(filled);
    this.drive(follower);
  }

  reportSnapshot(leader: SimNode, follower: NodeId, ok: boolean): void {
    leader.core().reportSnapshot(follower, ok);
    this.drive(leader);
  }
}
