// The shared state of one simulated run: clock, event queue, counters, trace, nodes.
import type { NodeId } from "../../../src/raft/types";
import type { CounterValues } from "./counters";
import type { EventQueue } from "./event_queue";
import type { Packet } from "./packet";
import type { SimParams } from "./params";
import type { Rng } from "./prng";
import type { SimNode } from "./sim_node";
import type { Trace } from "./trace";

export type SimEvent =
  | { kind: "packet"; packet: Packet }
  | { kind: "diskDone"; node: NodeId; incarnation: number }
  | { kind: "snapshotTimeout"; transferId: number };

export interface World {
  readonly params: SimParams;
  /** Scheduling decisions: faults, delays, workload. */
  readonly rng: Rng;
  now: number;
  readonly events: EventQueue<SimEvent>;
  readonly counters: CounterValues;
  readonly trace: Trace;
  readonly nodes: Map<NodeId, SimNode>;
}
