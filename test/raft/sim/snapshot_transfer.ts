// Streaming a leader's state machine snapshot to a follower in chunks over the faulty network.
// The follower's core gets the "snap" message (with the meta filled in) only when every chunk
// arrived; the leader's core learns the outcome through reportSnapshot(), exactly once per stream.
import type { Message, NodeId } from "../../../src/raft/types";
import type { Network } from "./network";
import type { SimNode } from "./sim_node";
import type { StateMachineSnapshot } from "./state_machine";
import type { World } from "./world";

type SnapMessage = Extract<Message, { type: "snap" }>;

interface Transfer {
  id: number;
  leader: NodeId;
  leaderIncarnation: number;
  follower: NodeId;
  followerIncarnation: number;
  msg: SnapMessage;
  snapshot: StateMachineSnapshot;
  chunks: number;
  received: Set<number>;
  handedOver: boolean;
  reported: boolean;
}

export interface SnapshotReceiver {
  /** The whole snapshot reached `follower`: stage it and step the core with the filled message. */
  receiveSnapshot(follower: SimNode, msg: SnapMessage, snapshot: StateMachineSnapshot): void;
  /** Tell `leader`'s core how the stream to `follower` ended. */
  reportSnapshot(leader: SimNode, follower: NodeId, ok: boolean): void;
}

export class SnapshotTransfers {
  private readonly transfers = new Map<number, Transfer>();
  private nextId = 1;

  constructor(
    private readonly world: World,
    private readonly network: Network,
    private readonly chunks: number,
    private readonly timeoutTicks: number,
    private readonly receiver: SnapshotReceiver,
  ) {}

  /** The leader's core emitted `msg`: stream its current state machine to the follower. */
  start(leader: SimNode, msg: SnapMessage): void {
    const w = this.world;
    const follower = w.nodes.get(msg.to);
    w.counters.snapshotsSent++;
    const t: Transfer = {
      id: this.nextId++,
      leader: leader.id,
      leaderIncarnation: leader.incarnation,
      follower: msg.to,
      followerIncarnation: follower && follower.alive ? follower.incarnation : -1,
      msg,
      snapshot: leader.sm.snapshot(),
      chunks: this.chunks,
      received: new Set(),
      handedOver: false,
      reported: false,
    };
    this.transfers.set(t.id, t);
    w.trace.record(w.now, `snapshot stream #${t.id} ${leader.id}->${msg.to} at ${t.snapshot.meta.index}/${t.snapshot.meta.term}`);
    for (let chunk = 0; chunk < t.chunks; chunk++) {
      this.network.send({
        kind: "snapshotChunk",
        from: t.leader,
        to: t.follower,
        fromIncarnation: t.leaderIncarnation,
        toIncarnation: t.followerIncarnation,
        transferId: t.id,
        chunk,
      });
    }
    w.events.push(w.now + this.timeoutTicks, w.rng.next(), { kind: "snapshotTimeout", transferId: t.id });
  }

  onChunk(transferId: number, chunk: number): void {
    const t = this.transfers.get(transferId);
    if (!t || t.handedOver) return;
    t.received.add(chunk);
    if (t.received.size < t.chunks) return;
    t.handedOver = true;
    const follower = this.world.nodes.get(t.follower);
    if (!follower || !follower.alive) return;
    this.receiver.receiveSnapshot(follower, t.msg, t.snapshot);
    this.network.send({
      kind: "snapshotReceived",
      from: t.follower,
      to: t.leader,
      fromIncarnation: follower.incarnation,
      toIncarnation: t.leaderIncarnation,
      transferId: t.id,
    });
  }

  onReceived(transferId: number): void {
    this.finish(transferId, true);
  }

  onTimeout(transferId: number): void {
    this.finish(transferId, false);
  }

  private finish(transferId: number, ok: boolean): void {
    const t = this.transfers.get(transferId);
    if (!t || t.reported) return;
    t.reported = true;
    this.transfers.delete(transferId);
    const leader = this.world.nodes.get(t.leader);
    if (!leader || !leader.alive || leader.incarnation !== t.leaderIncarnation) return;
    this.world.trace.record(this.world.now, `snapshot stream #${t.id} ${t.leader}->${t.follower} ${ok ? "done" : "failed"}`);
    this.receiver.reportSnapshot(leader, t.follower, ok);
  }
}
