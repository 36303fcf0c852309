import { mulberry32 } from "../../../src/shared/mulberry32";
import { MemoryStorage } from "../../../src/raft/memory_storage";
import { Raft } from "../../../src/raft/raft";
import {
  DEFAULT_RAFT_CONFIG,
  EntryType,
  type Entry,
  type HardState,
  type Message,
  type MessageType,
  type NodeId,
  type RaftConfig,
  type Ready,
  type ReadFailure,
  type ReadState,
} from "../../../src/raft/types";

/** A seeded PRNG so rule tests are repeatable. */
export const seededRandom = mulberry32;

export interface TestNode {
  id: NodeId;
  raft: Raft;
  storage: MemoryStorage;
  config: RaftConfig;
  applied: Entry[];
  readStates: ReadState[];
  readFailures: ReadFailure[];
  readies: Ready[];
}

export interface ClusterSetup {
  /** Learners of the initial configuration. */
  learners?: NodeId[];
  /**
   * Pre-existing durable logs: terms of entries 1..n per node (data is "<index>@<term>"), as if
   * written by earlier leaders. Nodes not listed start empty.
   */
  logs?: Record<NodeId, number[]>;
  /** Pre-existing hard state per node (term defaults to the last log term, commit to 0). */
  hardStates?: Record<NodeId, Partial<HardState>>;
}

/** The entry a preset log holds at index with term. */
export function presetEntry(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: enc(`${index}@${term}`) };
}

/** The message variant(s) whose type can be T. */
export type MsgOf<T extends MessageType> = Message extends infer M ? (M extends Message ? (T extends M["type"] ? M : never) : never) : never;

export type MessageFilter = (m: Message) => boolean;

/**
 * A small synchronous cluster for rule-by-rule tests: messages queue in `inbox` and are delivered
 * only when the test says so, so each test controls exactly what happens.
 */
export class TestCluster {
  nodes = new Map<NodeId, TestNode>();
  inbox: Message[] = [];
  /** Messages from/to these nodes are dropped. */
  isolated = new Set<NodeId>();
  /** Messages for which any of these returns true are dropped when sent. */
  dropIf: MessageFilter[] = [];
  dropped = 0;
  /** Every message any node handed out, in order (including dropped ones). */
  sent: Message[] = [];
  /** Deliver "snap" messages with the sender's current snapshot meta filled in (as the runtime does). */
  fillSnapshots = true;
  private overrides: Partial<RaftConfig>;
  private seed = 1;

  constructor(ids: NodeId[], overrides: Partial<RaftConfig> = {}, voters: NodeId[] = ids, setup: ClusterSetup = {}) {
    this.overrides = overrides;
    const learners = setup.learners ?? [];
    for (const id of ids) {
      const member = voters.includes(id) || learners.includes(id);
      const storage = new MemoryStorage({ index: 0, term: 0, conf: member ? { voters: [...voters], learners: [...learners] } : { voters: [], learners: [] } });
      const terms = setup.logs?.[id] ?? [];
      storage.append(terms.map((t, i) => presetEntry(i + 1, t)));
      const lastTerm = terms.length > 0 ? terms[terms.length - 1] : 0;
      storage.setHardState({ term: lastTerm, vote: "", commit: 0, ...setup.hardStates?.[id] });
      this.addNode(id, storage, 0);
    }
  }

  /** Creates (or re-creates, after a crash) node `id` over `storage`. */
  addNode(id: NodeId, storage: MemoryStorage, applied: number, extra: Partial<RaftConfig> = {}): TestNode {
    const config: RaftConfig = { ...DEFAULT_RAFT_CONFIG, id, random: seededRandom(this.seed++), applied, ...this.overrides, ...extra };
    const raft = new Raft(config, storage);
    const old = this.nodes.get(id);
    const n: TestNode = { id, raft, storage, config, applied: old ? old.applied.filter((e) => e.index <= applied) : [], readStates: [], readFailures: [], readies: [] };
    this.nodes.set(id, n);
    return n;
  }

  /** A brand-new node with an empty log and no configuration (to be added by a membership change). */
  addEmptyNode(id: NodeId): TestNode {
    return this.addNode(id, new MemoryStorage({ index: 0, term: 0, conf: { voters: [], learners: [] } }), 0);
  }

  /** Crash and restart: a fresh Raft over the node's durable storage, with its applied index. */
  restart(id: NodeId): TestNode {
    const n = this.node(id);
    return this.addNode(id, n.storage, n.applied.length === 0 ? n.storage.firstIndex() - 1 : Math.max(n.applied[n.applied.length - 1].index, n.storage.firstIndex() - 1));
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  raft(id: NodeId): Raft {
    return this.node(id).raft;
  }

  /** Runs one Ready for a node: persist, queue messages, advance, apply. */
  processReady(id: NodeId, force = false): Ready | null {
    const n = this.node(id);
    if (!force && !n.raft.hasReady()) return null;
    const rd = n.raft.ready();
    n.readies.push(rd);
    this.queue(rd.sendNow);
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    this.queue(rd.sendAfterPersist);
    n.raft.advance(rd);
    for (const e of rd.committedEntries) n.applied.push(e);
    n.readStates.push(...rd.readStates);
    n.readFailures.push(...rd.readFailures);
    return rd;
  }

  private queue(msgs: Message[]): void {
    for (const m of msgs) {
      this.sent.push(m);
      if (this.isolated.has(m.from) || this.isolated.has(m.to) || this.dropIf.some((f) => f(m))) this.dropped++;
      else this.inbox.push(m);
    }
  }

  /** Steps every queued message matching `pred` (default: all) into its target; others stay queued. */
  deliver(pred: MessageFilter = () => true): number {
    const batch = this.inbox.filter(pred);
    this.inbox = this.inbox.filter((m) => !pred(m));
    for (const m of batch) {
      const target = this.nodes.get(m.to);
      if (!target || this.isolated.has(m.to)) continue;
      if (m.type === "snap" && !m.snapshot && this.fillSnapshots) {
        // What the runtime does: stream the sender's current snapshot, then hand the meta over.
        target.raft.step({ ...m, snapshot: this.node(m.from).storage.snapshot() });
      } else target.raft.step(m);
    }
    return batch.length;
  }

  /** Removes and returns queued messages matching `pred`. */
  take(pred: MessageFilter): Message[] {
    const out = this.inbox.filter(pred);
    this.inbox = this.inbox.filter((m) => !pred(m));
    return out;
  }

  /** Processes Readies and delivers messages until nothing is left (or a step bound is hit). */
  settle(maxSteps = 10_000): void {
    for (let step = 0; step < maxSteps; step++) {
      let progressed = false;
      for (const id of this.nodes.keys()) if (this.processReady(id)) progressed = true;
      if (this.deliver() > 0) progressed = true;
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

  /** Ticks only `ids` (`times` times each), settling after every tick. */
  tick(ids: NodeId[], times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const id of ids) this.raft(id).tick();
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
    return this.node(id).applied.filter((e) => e.data.length > 0 && e.type === EntryType.Normal).map((e) => new TextDecoder().decode(e.data));
  }

  /** Messages sent so far (see `sent`) of the given type, optionally only from/to given nodes. */
  sentOf<T extends MessageType>(type: T, where: { from?: NodeId; to?: NodeId } = {}): MsgOf<T>[] {
    return this.sent.filter(
      (m): m is MsgOf<T> => m.type === type && (where.from === undefined || m.from === where.from) && (where.to === undefined || m.to === where.to),
    );
  }

  /** Terms of a node's log entries 1..lastIndex (compacted ones as 0). */
  logTerms(id: NodeId): number[] {
    const s = this.node(id).storage;
    const out: number[] = [];
    for (let i = 1; i <= s.lastIndex(); i++) out.push(i < s.firstIndex() ? 0 : s.term(i));
    return out;
  }
}

export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array) => new TextDecoder().decode(b);
export const to = (id: NodeId): MessageFilter => (m) => m.to === id;
export const from = (id: NodeId): MessageFilter => (m) => m.from === id;
export const ofType = (...types: MessageType[]): MessageFilter => (m) => types.includes(m.type);

export function voteMsg(type: "vote" | "preVote", from: NodeId, to: NodeId, term: number, lastIndex: number, lastTerm: number): Message {
  return { type, from, to, term, lastIndex, lastTerm, transfer: false };
}
