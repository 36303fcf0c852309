// API skeleton; the implementation is being written. Signatures are final.
import type { ConfChange, LogStorage, Message, ProposeResult, RaftConfig, Ready, SnapshotMeta, Status, NodeId } from "./types";

export class Raft {
  constructor(_config: RaftConfig, _storage: LogStorage) {
    throw new Error("not implemented yet");
  }
  /** Advance logical time by one tick. */
  tick(): void {}
  /** Deliver a message from a peer (or from the runtime, for "snap" with its meta filled). */
  step(_m: Message): void {}
  /** Append a command (leader only). Its fate is known when an entry at index applies: same term = committed, other term = lost. */
  propose(_data: Uint8Array): ProposeResult { throw new Error("x"); }
  /** Propose one membership change (leader only; one uncommitted change at a time). */
  proposeConfChange(_cc: ConfChange): ProposeResult { throw new Error("x"); }
  /** Ask for a linearizable read index; the answer comes in Ready.readStates or Ready.readFailures with this ctx. */
  readIndex(_ctx: string): void {}
  /** Hand leadership to `to` (leader only). Returns false if impossible now. */
  transferLeadership(_to: NodeId): boolean { return false; }
  /** Start an election now (if this node is a voter). */
  campaign(): void {}
  /** The runtime tells the leader how streaming a snapshot to `to` ended. */
  reportSnapshot(_to: NodeId, _ok: boolean): void {}
  /** Is there anything in a Ready? */
  hasReady(): boolean { return false; }
  /** Take what is to be done. Call advance(ready) before the next ready(). */
  ready(): Ready { throw new Error("x"); }
  /** The Ready's persistence is done (its entries, hard state and snapshot are durable). */
  advance(_rd: Ready): void {}
  /** Meta for compacting the log at `index` (firstIndex-1 <= index <= commit). */
  snapshotMetaAt(_index: number): SnapshotMeta { throw new Error("x"); }
  status(): Status { throw new Error("x"); }
}
