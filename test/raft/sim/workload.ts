// Client traffic and its bookkeeping: proposals with unique payloads (and which of them were
// acknowledged), and linearizable read requests with the lowest index each may be answered with.
import type { NodeId, ReadState } from "../../../src/raft/types";
import type { CounterValues } from "./counters";
import { violation } from "./failure";
import type { Rng } from "./prng";
import type { SimNode } from "./sim_node";

const encoder = new TextEncoder();

interface Proposal {
  proposer: NodeId;
  incarnation: number;
  index: number;
  term: number;
  acked: boolean;
}

interface ReadRequest {
  node: NodeId;
  incarnation: number;
  /** Everything known committed when the read was requested: the answer must not be below it. */
  minIndex: number;
}

export class Workload {
  private readonly proposals = new Map<string, Proposal>();
  private readonly reads = new Map<string, ReadRequest>();
  private nextPayload = 0;
  private nextRead = 0;
  readonly acked: string[] = [];

  constructor(
    private readonly rng: Rng,
    private readonly counters: CounterValues,
    private readonly maxPadding: number,
  ) {}

  /** Proposes one new command on `node`; returns the payload if the core accepted it. */
  propose(node: SimNode): string | null {
    const payload = `p${this.nextPayload++}.${"x".repeat(this.rng.int(0, this.maxPadding))}`;
    const res = node.core().propose(encoder.encode(payload));
    this.counters.proposals++;
    if (!res.ok) {
      this.counters.proposalsRefused++;
      return null;
    }
    this.proposals.set(payload, { proposer: node.id, incarnation: node.incarnation, index: res.index, term: res.term, acked: false });
    return payload;
  }

  isAcked(payload: string): boolean {
    return this.proposals.get(payload)?.acked ?? false;
  }

  /** A command entry is being applied on `node` at (index, term). */
  onApply(node: SimNode, payload: string, index: number, term: number): void {
    const p = this.proposals.get(payload);
    if (!p) violation("unknown-payload", `${node.id} applies ${payload} at ${index}, which no client proposed`);
    if (p.index !== index || p.term !== term) {
      violation(
        "proposal-placement",
        `${node.id} applies ${payload} at ${index}/${term}, but propose() on ${p.proposer} returned ${p.index}/${p.term}`,
      );
    }
    if (node.sm.has(payload)) violation("exactly-once", `${node.id} applies ${payload} a second time (at ${index})`);
    if (!p.acked && node.id === p.proposer && node.incarnation === p.incarnation) {
      p.acked = true;
      this.acked.push(payload);
      this.counters.proposalsAcked++;
    }
  }

  requestRead(node: SimNode, committedMax: number): void {
    const ctx = `r${this.nextRead++}`;
    this.reads.set(ctx, { node: node.id, incarnation: node.incarnation, minIndex: committedMax });
    this.counters.readsRequested++;
    node.core().readIndex(ctx);
  }

  onReadState(node: SimNode, rs: ReadState): void {
    const req = this.reads.get(rs.ctx);
    if (!req || req.node !== node.id) {
      violation("read-routing", `${node.id} got a read state for ${rs.ctx}, which it did not request`);
    }
    if (rs.index < req.minIndex) {
      violation("stale-read", `${node.id} read ${rs.ctx} answered at index ${rs.index}, but index ${req.minIndex} was committed before it was requested`);
    }
    // An answer to a request of an earlier incarnation (it crashed since) has no client to serve.
    if (req.incarnation === node.incarnation) this.counters.readsAnswered++;
  }

  onReadFailure(): void {
    this.counters.readsFailed++;
  }
}
