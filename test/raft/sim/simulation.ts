// One seeded run: a chaos phase (faults and client traffic), then a final phase in which every
// fault heals and the cluster must elect a leader, commit a new proposal and converge in bounded
// simulated time. Safety invariants are checked along the way (see safety_checker.ts).
import { decodeConfChange } from "../../../src/raft/confchange";
import type { NodeId, Status } from "../../../src/raft/types";
import { Cluster } from "./cluster";
import { emptyCounters, type CounterValues } from "./counters";
import { EventQueue } from "./event_queue";
import { InvariantViolation, replayCommand, violation, type SeedFailure } from "./failure";
import { FaultInjector } from "./fault_injector";
import { Network } from "./network";
import { NodeRuntime } from "./node_runtime";
import { paramsForSeed, type ParamOverrides, type SimParams } from "./params";
import { Rng } from "./prng";
import { SafetyChecker } from "./safety_checker";
import type { SimNode } from "./sim_node";
import { SnapshotTransfers } from "./snapshot_transfer";
import { Trace } from "./trace";
import { Workload } from "./workload";
import type { SimEvent, World } from "./world";

/** Events handled within one tick before the run is declared a livelock. */
const MAX_EVENTS_PER_TICK = 200_000;

export interface RunOptions extends ParamOverrides {
  traceSize?: number;
  /** Print every event as it happens. */
  echoTrace?: boolean;
}

export type SeedOutcome = { ok: true; counters: CounterValues } | { ok: false; counters: CounterValues; failure: SeedFailure };

class Simulation {
  readonly world: World;
  private readonly network: Network;
  private readonly checker: SafetyChecker;
  private readonly workload: Workload;
  private readonly runtime: NodeRuntime;
  private readonly transfers: SnapshotTransfers;
  private readonly cluster: Cluster;
  private readonly faults: FaultInjector;
  private readonly finalPayloads: string[] = [];
  private finalProposer: NodeId | null = null;
  private finalProposedAt = 0;

  constructor(readonly params: SimParams, root: Rng, options: RunOptions) {
    this.world = {
      params,
      rng: root.fork("schedule"),
      now: 0,
      events: new EventQueue<SimEvent>(),
      counters: emptyCounters(),
      trace: new Trace(options.traceSize ?? 60, options.echoTrace ?? false),
      nodes: new Map(),
    };
    const w = this.world;
    this.checker = new SafetyChecker(w.nodes);
    this.network = new Network(w, params.network);
    this.workload = new Workload(root.fork("workload"), w.counters, params.workload.maxPayloadPadding);
    this.runtime = new NodeRuntime(w, this.network, this.checker, this.workload, {
      onConfChangeCommitted: (index, data) => this.onConfChangeCommitted(index, data),
    });
    const snapshotTimeout = 2 * params.network.maxSpikeDelay + 2 * params.faults.maxDiskDelay + 4;
    this.transfers = new SnapshotTransfers(w, this.network, params.workload.snapshotChunks, snapshotTimeout, this.runtime);
    this.runtime.transfers = this.transfers;
    this.cluster = new Cluster(w, this.runtime, this.checker, root.fork("nodes"));
    this.faults = new FaultInjector(w, this.cluster, this.network, this.runtime, params.faults);
  }

  run(): void {
    const p = this.params;
    const ids: NodeId[] = [];
    for (let i = 0; i < p.clusterSize; i++) ids.push(this.cluster.newNodeId());
    for (const id of ids) this.cluster.create(id, { voters: [...ids], learners: [] });

    for (let t = 0; t < p.chaosTicks; t++) this.tick(true);

    this.world.trace.record(this.world.now, "final phase: heal, restart, no more faults");
    this.network.faulty = false;
    this.network.heal();
    this.cluster.unpauseAll();
    this.cluster.restartDue(true);
    const deadline = this.world.now + p.livenessTicks;
    while (this.world.now < deadline) {
      this.tick(false);
      const acked = this.finalAcked();
      if (acked !== null && this.converged(acked)) {
        this.checkFinalState();
        return;
      }
    }
    violation("liveness", `no leader + commit + convergence within ${p.livenessTicks} ticks after healing`);
  }

  private tick(chaos: boolean): void {
    const w = this.world;
    w.now++;
    w.counters.ticks++;
    this.processDueEvents();
    if (chaos) {
      if (this.faults.maybeInject()) w.counters.steps++;
      this.cluster.restartDue(false);
    }
    this.cluster.retireDue();
    this.clientTraffic(chaos);
    for (const node of w.rng.shuffle(this.cluster.running())) {
      w.counters.steps++;
      node.core().tick();
      this.runtime.drive(node);
    }
  }

  private processDueEvents(): void {
    const w = this.world;
    for (let n = 0; ; n++) {
      if (n > MAX_EVENTS_PER_TICK) violation("livelock", `more than ${MAX_EVENTS_PER_TICK} events at tick ${w.now}`);
      const ev = w.events.popDue(w.now);
      if (!ev) return;
      w.counters.steps++;
      this.handle(ev);
    }
  }

  private handle(ev: SimEvent): void {
    const w = this.world;
    const target = ev.kind === "packet" ? ev.packet.to : ev.kind === "diskDone" ? ev.node : null;
    const paused = target !== null ? w.nodes.get(target) : undefined;
    if (paused && paused.isPaused(w.now)) {
      // The process is stopped: whatever arrives waits until it runs again.
      w.events.push(paused.pausedUntil, w.rng.next(), ev);
      return;
    }
    switch (ev.kind) {
      case "diskDone": {
        const node = w.nodes.get(ev.node);
        if (node && node.alive && node.incarnation === ev.incarnation) this.runtime.completeWrite(node);
        return;
      }
      case "snapshotTimeout":
        this.transfers.onTimeout(ev.transferId);
        return;
      case "packet": {
        const packet = ev.packet;
        if (!this.network.deliverable(packet)) return;
        const to = w.nodes.get(packet.to)!;
        if (packet.kind === "raft") this.runtime.deliver(to, packet.msg);
        else if (packet.kind === "snapshotChunk") this.transfers.onChunk(packet.transferId, packet.chunk);
        else this.transfers.onReceived(packet.transferId);
        return;
      }
    }
  }

  private clientTraffic(chaos: boolean): void {
    const w = this.world;
    const wl = this.params.workload;
    if (chaos && w.rng.chance(wl.proposeRate)) {
      w.counters.steps++;
      const leaders = this.cluster.leaders();
      const target = leaders.length > 0 ? w.rng.pick(leaders) : null;
      const status = target?.core().status();
      if (target && status && status.lastIndex - status.commit >= wl.maxOutstanding) {
        // Clients have bounded concurrency: they wait while this much is in flight.
      } else if (target) {
        const batch = w.rng.int(1, wl.maxBatch);
        for (let i = 0; i < batch; i++) this.workload.propose(target);
        this.runtime.drive(target);
      } else {
        const running = this.cluster.running();
        if (running.length > 0) this.workload.propose(w.rng.pick(running));
      }
    }
    if (!chaos) this.finalProposal();
    if (w.rng.chance(wl.readRate)) {
      const running = this.cluster.running();
      if (running.length > 0) {
        w.counters.steps++;
        const node = w.rng.pick(running);
        this.workload.requestRead(node, this.checker.committedMax);
        this.runtime.drive(node);
      }
    }
  }

  /**
   * In the final phase: offer a new proposal to the leader, and offer another when the leader
   * changed or a few election timeouts passed; liveness needs one of them acknowledged.
   */
  private finalProposal(): void {
    const w = this.world;
    if (this.finalAcked() !== null) return;
    const leaders = this.cluster.leaders();
    if (leaders.length === 0) return;
    const leader = w.rng.pick(leaders);
    const fresh = leader.id !== this.finalProposer || w.now - this.finalProposedAt >= 4 * this.params.core.electionTicks;
    if (this.finalPayloads.length > 0 && !fresh) return;
    const payload = this.workload.propose(leader);
    if (payload !== null) {
      this.finalPayloads.push(payload);
      this.finalProposer = leader.id;
      this.finalProposedAt = w.now;
      this.runtime.drive(leader);
    }
  }

  private finalAcked(): string | null {
    return this.finalPayloads.find((p) => this.workload.isAcked(p)) ?? null;
  }

  private onConfChangeCommitted(index: number, data: Uint8Array): void {
    const w = this.world;
    w.counters.membershipChangesCommitted++;
    const record = decodeConfChange(data);
    w.trace.record(w.now, `conf change committed at ${index}: ${record.change.kind} ${record.change.node}`);
    if (record.change.kind !== "remove") return;
    const p = this.params;
    if (w.rng.chance(p.faults.retireRemovedRate)) {
      this.cluster.scheduleRetirement(record.change.node, w.now + w.rng.int(0, 3 * p.core.electionTicks));
    }
  }

  private members(): SimNode[] {
    const conf = this.cluster.latestConf();
    return [...conf.voters, ...conf.learners].map((id) => {
      const node = this.world.nodes.get(id);
      if (!node) violation("membership", `member ${id} was never created`);
      return node;
    });
  }

  private converged(acked: string): boolean {
    const members = this.members();
    if (members.some((n) => !n.alive)) return false;
    const applied = members[0].sm.appliedIndex;
    return members.every((n) => n.sm.appliedIndex === applied && n.sm.has(acked));
  }

  /** Every member holds the same commands, each acknowledged one exactly once. */
  private checkFinalState(): void {
    const members = this.members();
    const reference = members[0];
    for (const node of members) {
      const a = reference.sm.commands;
      const b = node.sm.commands;
      if (a.length !== b.length || a.some((c, i) => c.index !== b[i].index || c.payload !== b[i].payload)) {
        violation("convergence", `${reference.id} and ${node.id} applied up to ${node.sm.appliedIndex} but hold different commands`);
      }
      for (const payload of this.workload.acked) {
        if (!node.sm.has(payload)) violation("acked-durability", `acknowledged ${payload} is missing from ${node.id}'s state machine`);
      }
    }
  }

  describeNodes(): string {
    const lines: string[] = [describeParams(this.params)];
    for (const node of this.world.nodes.values()) {
      let s: Status | undefined;
      try {
        s = node.raft?.status();
      } catch {
        s = undefined;
      }
      const state = s
        ? `${s.role} term=${s.term} vote=${s.vote || "-"} leader=${s.leader ?? "-"} commit=${s.commit} log=${s.firstIndex}..${s.lastIndex} conf=[${s.conf.voters.join(",")}]+[${s.conf.learners.join(",")}]`
        : node.retired
          ? "retired"
          : "down";
      lines.push(`  ${node.id}: ${state} applied=${node.sm.appliedIndex} pendingWrite=${node.pendingWrite !== null}`);
    }
    lines.push(`  latest conf: voters=[${this.cluster.latestConf().voters.join(",")}] learners=[${this.cluster.latestConf().learners.join(",")}]`);
    return lines.join("\n");
  }

  finishCounters(): CounterValues {
    const c = this.world.counters;
    c.seeds = 1;
    c.elections = this.checker.elections;
    return c;
  }
}

function describeParams(p: SimParams): string {
  const c = p.core;
  const n = p.network;
  return (
    `  params: ${p.clusterSize} voters, election=${c.electionTicks} heartbeat=${c.heartbeatTicks} preVote=${c.preVote} checkQuorum=${c.checkQuorum} ` +
    `maxBytes=${c.maxBytesPerMessage} inflight=${c.maxInflightMessages} uncommitted=${c.maxUncommittedBytes}; ` +
    `delay=${n.minDelay}..${n.maxDelay} loss=${n.lossRate} dup=${n.duplicateRate} spike=${n.delaySpikeRate}; ` +
    `faultRate=${p.faults.faultRate} disk=${p.faults.diskDelayRate}; compactEvery=${p.workload.compactEvery}`
  );
}

export function runSeed(seed: number, options: RunOptions = {}): SeedOutcome {
  const root = new Rng(seed);
  const params = paramsForSeed(seed, root.fork("params"), options);
  const sim = new Simulation(params, root, options);
  try {
    sim.run();
    return { ok: true, counters: sim.finishCounters() };
  } catch (e) {
    const err = e as Error;
    const invariant = e instanceof InvariantViolation ? e.invariant : "exception";
    const detail = e instanceof InvariantViolation ? err.message : `${err.message}\n${err.stack ?? ""}`;
    const message = `${detail}\n${sim.describeNodes()}`;
    return {
      ok: false,
      counters: sim.finishCounters(),
      failure: { seed, invariant, message, trace: sim.world.trace.lines(), replay: replayCommand(seed) },
    };
  }
}
