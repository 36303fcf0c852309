export type ProgressState = "probe" | "replicate" | "snapshot";

/**
 * What the leader knows of one follower's log, and how it is sending to it:
 * - probe: one "app" at a time until the follower's position is known;
 * - replicate: optimistic pipelining, bounded by `maxInflight` unacknowledged messages;
 * - snapshot: a snapshot is being streamed; nothing else is sent until it ends.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = "probe";
  /** In probe state: a message is out and we wait for its answer (or a heartbeat answer). */
  probeSent = false;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** Leader ticks since match last moved: a long silence with entries in flight means they were lost. */
  ticksSinceAck = 0;
  isLearner: boolean;
  /** Last index of each unacknowledged "app" message, oldest first. */
  private inflight: number[] = [];
  private readonly maxInflight: number;

  constructor(next: number, isLearner: boolean, maxInflight: number) {
    this.next = next;
    this.isLearner = isLearner;
    this.maxInflight = maxInflight;
  }

  becomeProbe(): void {
    // After a snapshot, resume right after what the follower is known to have.
    this.state = "probe";
    this.next = this.match + 1;
    this.probeSent = false;
    this.inflight = [];
  }

  becomeReplicate(): void {
    this.state = "replicate";
    this.ticksSinceAck = 0;
    this.next = this.match + 1;
    this.probeSent = false;
    this.inflight = [];
  }

  becomeSnapshot(): void {
    this.state = "snapshot";
    this.probeSent = false;
    this.inflight = [];
  }

  /** The follower acknowledged up to index. Returns whether match moved. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
      this.ticksSinceAck = 0;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * The follower rejected an "app" whose prevIndex was `rejected`; `nextGuess` is where the leader
   * should probe next. Returns false for a stale rejection (already superseded).
   */
  maybeDecrTo(rejected: number, nextGuess: number): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, nextGuess), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflight.length >= this.maxInflight;
      case "snapshot":
        return true;
    }
  }

  sentEntries(lastIndex: number): void {
    if (this.state === "replicate") {
      this.next = lastIndex + 1;
      // The silence that counts as loss starts with the oldest message still unanswered.
      if (this.inflight.length === 0) this.ticksSinceAck = 0;
      this.inflight.push(lastIndex);
    } else if (this.state === "probe") {
      this.probeSent = true;
    }
  }

  sentProbe(): void {
    if (this.state === "probe") this.probeSent = true;
  }

  /** Acknowledged up to index: free the inflight slots it covers. */
  freeInflightTo(index: number): void {
    let n = 0;
    while (n < this.inflight.length && this.inflight[n] <= index) n++;
    if (n > 0) this.inflight.splice(0, n);
  }

  /** Let one more message out when a full pipeline has gone quiet (heartbeat answered). */
  freeFirstInflight(): void {
    if (this.inflight.length >= this.maxInflight) this.inflight.shift();
  }
}
