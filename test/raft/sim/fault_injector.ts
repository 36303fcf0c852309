// Chaos events chosen from the seed: partitions (symmetric, one-way, leader isolation), healing,
// crashes, leadership transfers, forced campaigns and membership changes.
import type { ConfChange, NodeId } from "../../../src/raft/types";
import type { Cluster } from "./cluster";
import type { Network } from "./network";
import type { NodeRuntime } from "./node_runtime";
import type { FaultSettings } from "./params";
import type { World } from "./world";

type FaultEvent = keyof FaultSettings["weights"];

export class FaultInjector {
  private newNodes = 0;

  constructor(
    private readonly world: World,
    private readonly cluster: Cluster,
    private readonly network: Network,
    private readonly runtime: NodeRuntime,
    private readonly settings: FaultSettings,
  ) {}

  /** Maybe injects one fault event this tick; returns whether it did. */
  maybeInject(): boolean {
    const w = this.world;
    if (!w.rng.chance(this.settings.faultRate)) return false;
    const event = this.pickEvent();
    if (event) this.inject(event);
    return event !== null;
  }

  private pickEvent(): FaultEvent | null {
    const weights = this.settings.weights;
    const kinds = Object.keys(weights) as FaultEvent[];
    const total = kinds.reduce((s, k) => s + weights[k], 0);
    if (total === 0) return null;
    let r = this.world.rng.next() * total;
    for (const k of kinds) {
      r -= weights[k];
      if (r < 0) return k;
    }
    return kinds[kinds.length - 1];
  }

  private inject(event: FaultEvent): void {
    switch (event) {
      case "partition":
        return this.partition();
      case "oneWayPartition":
        return this.oneWayPartition();
      case "isolateLeader":
        return this.isolateLeader();
      case "heal":
        return this.heal();
      case "crash":
        return this.crash();
      case "pause":
        return this.pause();
      case "transferLeadership":
        return this.transferLeadership();
      case "campaign":
        return this.campaign();
      case "confChange":
        return this.confChange();
    }
  }

  private participants(): NodeId[] {
    return [...this.world.nodes.values()].filter((n) => !n.retired).map((n) => n.id);
  }

  private partition(): void {
    const w = this.world;
    const ids = w.rng.shuffle(this.participants());
    if (ids.length < 2) return;
    const cutAt = w.rng.int(1, ids.length - 1);
    const a = ids.slice(0, cutAt);
    const b = ids.slice(cutAt);
    this.network.heal();
    this.network.split(a, b);
    w.counters.partition++;
    w.trace.record(w.now, `partition [${a.join(",")}] | [${b.join(",")}]`);
  }

  private oneWayPartition(): void {
    const w = this.world;
    const ids = w.rng.shuffle(this.participants());
    if (ids.length < 2) return;
    const [speaker, deaf] = ids;
    // Sometimes the deaf node hears no one at all (it can still talk: a classic disruptor).
    const speakers = w.rng.chance(0.3) ? ids.slice(1).filter((x) => x !== deaf).concat(speaker) : [speaker];
    for (const s of speakers) this.network.cutLink(s, deaf);
    w.counters.oneWayPartition++;
    w.trace.record(w.now, `one-way: ${deaf} no longer hears [${speakers.join(",")}]`);
  }

  private isolateLeader(): void {
    const w = this.world;
    const leaders = this.cluster.leaders();
    const ids = this.participants();
    if (ids.length < 2) return;
    const victim = leaders.length > 0 ? w.rng.pick(leaders).id : w.rng.pick(ids);
    this.network.heal();
    this.network.split([victim], ids.filter((x) => x !== victim));
    w.counters.isolateLeader++;
    w.trace.record(w.now, `isolate ${victim}`);
  }

  private heal(): void {
    const w = this.world;
    this.network.heal();
    w.counters.heal++;
    w.trace.record(w.now, "heal");
  }

  private crash(): void {
    const w = this.world;
    const running = this.cluster.running();
    if (running.length === 0) return;
    const node = w.rng.pick(running);
    this.cluster.crash(node, w.now + w.rng.int(this.settings.minDownTicks, this.settings.maxDownTicks));
  }

  private pause(): void {
    const w = this.world;
    const running = this.cluster.running();
    if (running.length === 0) return;
    const node = w.rng.pick(running);
    node.pausedUntil = w.now + w.rng.int(1, 3 * w.params.core.electionTicks);
    w.counters.pause++;
    w.trace.record(w.now, `pause ${node.id} until ${node.pausedUntil}`);
  }

  private transferLeadership(): void {
    const w = this.world;
    const leaders = this.cluster.leaders();
    if (leaders.length === 0) return;
    const leader = w.rng.pick(leaders);
    const conf = leader.core().status().conf;
    // Mostly a voter; sometimes a learner or a node outside the configuration, which must be refused.
    const candidates = w.rng.chance(0.8) ? conf.voters : [...conf.learners, ...w.nodes.keys()];
    const others = candidates.filter((v) => v !== leader.id);
    if (others.length === 0) return;
    const target = w.rng.pick(others);
    const accepted = leader.core().transferLeadership(target);
    w.counters.transferLeadership++;
    w.trace.record(w.now, `transfer leadership ${leader.id} -> ${target}: ${accepted ? "started" : "refused"}`);
    this.runtime.drive(leader);
  }

  private campaign(): void {
    const w = this.world;
    const running = this.cluster.running();
    if (running.length === 0) return;
    const node = w.rng.pick(running);
    node.core().campaign();
    w.counters.campaign++;
    w.trace.record(w.now, `campaign ${node.id}`);
    this.runtime.drive(node);
  }

  private confChange(): void {
    const w = this.world;
    const leaders = this.cluster.leaders();
    if (leaders.length === 0) return;
    const leader = w.rng.pick(leaders);
    const conf = leader.core().status().conf;
    const choices: ConfChange["kind"][] = [];
    if (conf.learners.length > 0) choices.push("promote");
    if (conf.voters.length >= 3 || conf.learners.length > 0) choices.push("remove");
    if (this.newNodes < this.settings.maxNewNodes) choices.push("addLearner", "addVoter");
    if (choices.length === 0) return;
    const kind = w.rng.pick(choices);
    let node: NodeId;
    if (kind === "promote") node = w.rng.pick(conf.learners);
    else if (kind === "remove") node = w.rng.pick(conf.voters.length >= 3 ? [...conf.voters, ...conf.learners] : conf.learners);
    else node = this.cluster.newNodeId();
    const res = leader.core().proposeConfChange({ kind, node, context: new Uint8Array(0) });
    w.trace.record(w.now, `conf change ${kind} ${node} on ${leader.id}: ${res.ok ? `at ${res.index}/${res.term}` : res.reason}`);
    if (res.ok) {
      w.counters.confChangeProposed++;
      if (kind === "addLearner" || kind === "addVoter") {
        this.newNodes++;
        this.cluster.create(node, { voters: [], learners: [] });
      }
    }
    this.runtime.drive(leader);
  }
}
