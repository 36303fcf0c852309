// The nemesis: one fault at a time, chosen by a seeded PRNG, each held for a while and then
// healed, with a quiet spell between faults. Faults:
// - kill-node / kill-leader: kill -9, wait, restart from its own data (no --join-addr);
// - pause-leader: SIGSTOP the leader longer than the election timeout, then SIGCONT;
// - isolate-leader: cut the leader off from every other member, both directions;
// - partition-split: a random minority / majority split, both directions;
// - partition-one-way: every link out of one node (or into it) cut, the other direction open;
// - partition-pair: two members cannot talk, both still reach the rest;
// - slow-links: delay on every link out of a random node;
// - restart-all: SIGTERM every node, start them again in another order;
// - kill-all: kill -9 every node at once (acknowledged writes must be on disk), restart in another order.
import { ELECTION_TIMEOUT_MS, sleep, type ChaosCluster, type ChaosNode } from "./chaos_cluster";
import type { Prng } from "./prng";

export const FAULT_KINDS = [
  "kill-node",
  "kill-leader",
  "pause-leader",
  "isolate-leader",
  "partition-split",
  "partition-one-way",
  "partition-pair",
  "slow-links",
  "restart-all",
  "kill-all",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Relative odds of each fault. */
const WEIGHTS: Record<FaultKind, number> = {
  "kill-node": 2,
  "kill-leader": 3,
  "pause-leader": 2,
  "isolate-leader": 2,
  "partition-split": 2,
  "partition-one-way": 2,
  "partition-pair": 1,
  "slow-links": 1,
  "restart-all": 1,
  "kill-all": 1,
};

export class Nemesis {
  readonly counts = new Map<FaultKind, number>();
  readonly log: string[] = [];
  private readonly t0 = performance.now();

  constructor(
    private readonly cc: ChaosCluster,
    private readonly prng: Prng,
    private readonly say: (line: string) => void = () => {},
  ) {}

  /** Inject faults until `until` (performance.now() ms); heals everything before returning. */
  async run(until: number): Promise<void> {
    while (performance.now() < until) {
      const kind = this.pickKind();
      const hold = this.prng.int(1500, 4000);
      this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
      await this.inject(kind, hold);
      await this.healAll();
      await sleep(this.prng.int(500, 2500));
    }
  }

  /** Network healed, paused nodes continued, stopped nodes restarted and answering. */
  async healAll(): Promise<void> {
    this.cc.healNetwork();
    for (const m of this.cc.members) m.node.resume();
    for (const m of this.cc.members) {
      if (!m.node.running) {
        this.note(`restart ${m.node.spec.name}`);
        this.cc.startNode(m);
      }
    }
    await Promise.all(this.cc.members.map((m) => m.node.waitReady(30_000)));
  }

  private pickKind(): FaultKind {
    const total = FAULT_KINDS.reduce((s, k) => s + WEIGHTS[k], 0);
    let r = this.prng.next() * total;
    for (const k of FAULT_KINDS) {
      r -= WEIGHTS[k];
      if (r < 0) return k;
    }
    return FAULT_KINDS[0];
  }

  private note(text: string): void {
    const line = `[${((performance.now() - this.t0) / 1000).toFixed(1)}s] ${text}`;
    this.log.push(line);
    this.say(line);
  }

  private async leaderOrAny(): Promise<ChaosNode> {
    return (await this.cc.findLeader()) ?? this.prng.pick(this.cc.running());
  }

  private async inject(kind: FaultKind, hold: number): Promise<void> {
    const all = this.cc.members;
    const name = (m: ChaosNode) => m.node.spec.name;
    switch (kind) {
      case "kill-node":
      case "kill-leader": {
        const victim = kind === "kill-leader" ? await this.leaderOrAny() : this.prng.pick(all);
        this.note(`${kind}: kill -9 ${name(victim)}, restart in ${hold} ms`);
        this.cc.note(victim, "kill -9");
        await victim.node.kill();
        await sleep(hold);
        return;
      }
      case "pause-leader": {
        const victim = await this.leaderOrAny();
        const ms = hold + ELECTION_TIMEOUT_MS;
        this.note(`pause-leader: SIGSTOP ${name(victim)} for ${ms} ms`);
        this.cc.note(victim, `SIGSTOP for ${ms} ms`);
        victim.node.pause();
        await sleep(ms);
        victim.node.resume();
        return;
      }
      case "isolate-leader": {
        const leader = await this.leaderOrAny();
        this.note(`isolate-leader: ${name(leader)} cut off for ${hold} ms`);
        for (const other of all) if (other !== leader) this.cutBoth(leader, other);
        await sleep(hold);
        return;
      }
      case "partition-split": {
        const shuffled = this.prng.shuffle(all);
        const minority = shuffled.slice(0, this.prng.int(1, Math.floor((all.length - 1) / 2)));
        const majority = shuffled.filter((m) => !minority.includes(m));
        this.note(`partition-split: [${minority.map(name)}] | [${majority.map(name)}] for ${hold} ms`);
        for (const a of minority) for (const b of majority) this.cutBoth(a, b);
        await sleep(hold);
        return;
      }
      case "partition-one-way": {
        const node = this.prng.next() < 0.5 ? await this.leaderOrAny() : this.prng.pick(all);
        const outbound = this.prng.next() < 0.5;
        this.note(`partition-one-way: ${name(node)} can ${outbound ? "receive but not send" : "send but not receive"} for ${hold} ms`);
        for (const other of all) {
          if (other === node) continue;
          if (outbound) this.cc.block(node, other);
          else this.cc.block(other, node);
        }
        await sleep(hold);
        return;
      }
      case "partition-pair": {
        const [a, b] = this.prng.shuffle(all);
        this.note(`partition-pair: ${name(a)} <-/-> ${name(b)} for ${hold} ms`);
        this.cutBoth(a, b);
        await sleep(hold);
        return;
      }
      case "slow-links": {
        const node = this.prng.pick(all);
        const ms = this.prng.int(20, 300);
        this.note(`slow-links: +${ms} ms on every link out of ${name(node)} for ${hold} ms`);
        for (const other of all) if (other !== node) this.cc.delay(node, other, ms);
        await sleep(hold);
        return;
      }
      case "restart-all":
      case "kill-all": {
        const order = this.prng.shuffle(all);
        const how = kind === "kill-all" ? "kill -9" : "SIGTERM";
        this.note(`${kind}: ${how} all, start ${order.map(name).join(", ")}`);
        for (const m of all) this.cc.note(m, `${kind}: ${how}`);
        if (kind === "kill-all") await Promise.all(all.map((m) => m.node.kill()));
        else await Promise.all(all.map((m) => this.cc.stopNode(m)));
        for (const m of order) {
          this.cc.startNode(m);
          await sleep(this.prng.int(0, 500));
        }
        return;
      }
    }
  }

  private cutBoth(a: ChaosNode, b: ChaosNode): void {
    this.cc.block(a, b);
    this.cc.block(b, a);
  }
}
