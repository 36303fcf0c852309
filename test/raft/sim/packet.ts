// What travels through the simulated network: Raft messages and snapshot streams.
import type { Message, NodeId } from "../../../src/raft/types";

interface Route {
  from: NodeId;
  to: NodeId;
  /** Incarnations at send time: a crash of either end drops the packet. */
  fromIncarnation: number;
  toIncarnation: number;
}

export type Packet =
  | (Route & { kind: "raft"; msg: Message })
  /** One piece of a snapshot stream from leader to follower. */
  | (Route & { kind: "snapshotChunk"; transferId: number; chunk: number })
  /** The follower received the whole stream (the stream's end-of-transfer acknowledgement). */
  | (Route & { kind: "snapshotReceived"; transferId: number });
