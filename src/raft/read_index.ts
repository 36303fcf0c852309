import { committedByQuorum } from "./quorum";
import type { NodeId } from "./types";

export interface PendingRead {
  ctx: string;
  /** The commit index when the read arrived: the state machine must reach it before reading. */
  index: number;
  /** Heartbeat round that confirms leadership for this read (a round started after it arrived). */
  round: number;
  /** Follower that asked on behalf of its client, or null for a local read. */
  from: NodeId | null;
}

/**
 * The leader's side of ReadIndex (Raft dissertation 6.4). Reads that arrive before the next Ready
 * share one heartbeat round; a read is released once a quorum has answered a round that started
 * after the read arrived.
 */
export class ReadIndexTracker {
  private lastRound = 0;
  private roundWanted = false;
  private pending: PendingRead[] = [];
  private acked = new Map<NodeId, number>();

  add(ctx: string, index: number, from: NodeId | null): void {
    this.pending.push({ ctx, index, round: this.lastRound + 1, from });
    this.roundWanted = true;
  }

  wantsRound(): boolean {
    return this.roundWanted;
  }

  /** The round to broadcast now, if any read is waiting for one. */
  startRound(): number | null {
    if (!this.roundWanted) return null;
    this.roundWanted = false;
    return ++this.lastRound;
  }

  ack(node: NodeId, round: number): void {
    if (round > (this.acked.get(node) ?? 0)) this.acked.set(node, round);
  }

  /** Reads whose round a quorum of voters has confirmed, in arrival order. */
  release(voters: NodeId[], self: NodeId): PendingRead[] {
    if (this.pending.length === 0) return [];
    const confirmed = committedByQuorum(voters, (id) => (id === self ? Number.MAX_SAFE_INTEGER : (this.acked.get(id) ?? 0)));
    let n = 0;
    while (n < this.pending.length && this.pending[n].round <= confirmed) n++;
    return n === 0 ? [] : this.pending.splice(0, n);
  }

  /** Everything still waiting (on losing leadership). */
  drain(): PendingRead[] {
    const all = this.pending;
    this.pending = [];
    this.roundWanted = false;
    this.acked.clear();
    return all;
  }
}
