// The set of simulated nodes and the operations on it: create, crash, restart, retire, and the
// questions the fault injector and the final phase ask (who leads, who is a member).
import { Role, type ConfState, type NodeId } from "../../../src/raft/types";
import type { NodeRuntime } from "./node_runtime";
import type { Rng } from "./prng";
import type { SafetyChecker } from "./safety_checker";
import { SimNode } from "./sim_node";
import type { World } from "./world";

export class Cluster {
  private nextNodeNumber = 1;
  private readonly retirements: { node: NodeId; at: number }[] = [];

  constructor(
    private readonly world: World,
    private readonly runtime: NodeRuntime,
    private readonly checker: SafetyChecker,
    private readonly rngRoot: Rng,
  ) {}

  newNodeId(): NodeId {
    return `n${this.nextNodeNumber++}`;
  }

  /** A node with storage at {index 0, term 0, conf}, started. */
  create(id: NodeId, conf: ConfState): SimNode {
    const w = this.world;
    const node = new SimNode(id, conf, w.params.core, this.rngRoot, (nodeId, event) => w.trace.record(w.now, `${nodeId}: ${event}`));
    w.nodes.set(id, node);
    node.start();
    w.trace.record(w.now, `create ${id} conf voters=[${conf.voters.join(",")}] learners=[${conf.learners.join(",")}]`);
    this.runtime.drive(node);
    return node;
  }

  crash(node: SimNode, restartAt: number): void {
    const w = this.world;
    if (node.pendingWrite) w.counters.crashLostWrite++;
    node.crash();
    node.restartAt = restartAt;
    this.checker.forgetNode(node);
    w.counters.crash++;
    w.trace.record(w.now, `crash ${node.id} (restart at ${restartAt})`);
  }

  restart(node: SimNode): void {
    const w = this.world;
    node.start();
    w.counters.restart++;
    w.trace.record(w.now, `restart ${node.id} applied=${node.sm.appliedIndex} stored=${node.storage.firstIndex()}..${node.storage.lastIndex()}`);
    this.runtime.drive(node);
  }

  /** Restarts crashed nodes whose down time is over (all of them when `all`). */
  restartDue(all: boolean): void {
    for (const node of this.world.nodes.values()) {
      if (!node.alive && !node.retired && (all || node.restartAt <= this.world.now)) this.restart(node);
    }
  }

  scheduleRetirement(node: NodeId, at: number): void {
    this.retirements.push({ node, at });
  }

  retireDue(): void {
    const w = this.world;
    for (let i = this.retirements.length - 1; i >= 0; i--) {
      const r = this.retirements[i];
      if (r.at > w.now) continue;
      this.retirements.splice(i, 1);
      const node = w.nodes.get(r.node);
      if (!node || node.retired) continue;
      if (node.alive) node.crash();
      node.retired = true;
      this.checker.forgetNode(node);
      w.counters.retireRemovedNode++;
      w.trace.record(w.now, `retire removed node ${node.id}`);
    }
  }

  /** Nodes whose process runs now (not crashed, not paused). */
  running(): SimNode[] {
    const out: SimNode[] = [];
    const now = this.world.now;
    for (const node of this.world.nodes.values()) if (node.alive && !node.isPaused(now)) out.push(node);
    return out;
  }

  unpauseAll(): void {
    for (const node of this.world.nodes.values()) node.pausedUntil = 0;
  }

  /** Running nodes that believe they lead. */
  leaders(): SimNode[] {
    return this.running().filter((n) => n.core().status().role === Role.Leader);
  }

  /** The configuration of the state machine that applied the most. */
  latestConf(): ConfState {
    let best: SimNode | null = null;
    for (const node of this.world.nodes.values()) {
      if (!best || node.sm.appliedIndex > best.sm.appliedIndex) best = node;
    }
    if (!best) throw new Error("no nodes");
    return best.sm.conf;
  }
}
