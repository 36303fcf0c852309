import { MemoryStorage } from "../../../src/raft/memory_storage";
import { Raft } from "../../../src/raft/raft";
import { DEFAULT_RAFT_CONFIG, type Entry, type Message, type NodeId, type RaftConfig, type Ready } from "../../../src/raft/types";

/** A seeded PRNG (mulberry32) so rule tests are repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TestNode {
  id: NodeId;
  raft: Raft;
  storage: MemoryStorage;
  applied: Entry[];
}

/**
 * A small synchronous cluster for rule-by-rule tests: messages queue in `inbox` and are delivered
 * only when the test says so, so each test controls exactly what happens.
 */
export class TestCluster {
  nodes = new Map<NodeId, TestNode>();
  inbox: Message[] = [];
  /** Messages from/to these nodes are dropped. */
  isolated = new Set<NodeId>();
  dropped = 0;

  constructor(ids: NodeId[], overrides: Partial<RaftConfig> = {}, voters: NodeId[] = ids) {
    let seed = 1;
    for (const id of ids) {
      const storage = new MemoryStorage({ index: 0, term: 0, conf: { voters: voters.includes(id) ? voters : [], learners: [] } });
      const raft = new Raft({ ...DEFAULT_RAFT_CONFIG, id, random: seededRandom(seed++), applied: 0, ...overrides }, storage);
      this.nodes.set(id, { id, raft, storage, applied: [] });
    }
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Runs one Ready for a node: persist, queue messages, advance, apply. */
  processReady(id: NodeId): Ready | null {
    const n = this.node(id);
    if (!n.raft.hasReady()) return null;
    const rd = n.raft.ready();
    this.queue(rd.sendNow);
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    this.queue(rd.sendAfterPersist);
    n.raft.advance(rd);
    for (const e of rd.committedEntries) n.applied.push(e);
    return rd;
  }

  private queue(msgs: Message[]): void {
    for (const m of msgs) {
      if (this.isolated.has(m.from) || this.isolated.has(m.to)) this.dropped++;
      else this.inbox.push(m);
    }
  }

  /** Processes Readies and delivers messages until nothing is left (or a step bound is hit). */
  settle(maxSteps = 10_000): void {
    for (let step = 0; step < maxSteps; step++) {
      let progressed = false;
      for (const id of this.nodes.keys()) if (this.processReady(id)) progressed = true;
      const batch = this.inbox;
      this.inbox = [];
      for (const m of batch) {
        const target = this.nodes.get(m.to);
        if (target && !this.isolated.has(m.to)) target.raft.step(m);
        progressed = true;
      }
      if (!progressed) return;
    }
    throw new Error("cluster did not settle");
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const n of this.nodes.values()) if (!this.isolated.has(n.id)) n.raft.tick();
      this.settle();
    }
  }

  /** Elects `id` by having it campaign, then settles. */
  elect(id: NodeId): void {
    this.node(id).raft.campaign();
    this.settle();
  }

  leader(): TestNode | null {
    let found: TestNode | null = null;
    for (const n of this.nodes.values()) if (n.raft.status().role === "leader" && !this.isolated.has(n.id)) found = n;
    return found;
  }

  appliedData(id: NodeId): string[] {
    return this.node(id).applied.filter((e) => e.data.length > 0 && e.type === 0).map((e) => new TextDecoder().decode(e.data));
  }
}

export const enc = (s: string) => new TextEncoder().encode(s);
