import { expireCommand } from "../kv/commands";
import type { Logger, RaftNode } from "./raft_node";

const SWEEP_INTERVAL_MS = 250;
const KEYS_PER_SWEEP = 1_000;

/**
 * On the leader, turns keys whose time to live has passed into Expire commands through the log, so
 * every member deletes them at the same revision. Reads already hide them before that.
 */
export class ExpirySweeper {
  private timer: ReturnType<typeof setInterval> | null = null;
  private busy = false;

  constructor(private readonly node: RaftNode, private readonly log: Logger) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async sweep(): Promise<void> {
    if (this.busy || !this.node.isLeader()) return;
    this.busy = true;
    try {
      const now = Date.now();
      const keys = await this.node.kv.expiredKeys(now, KEYS_PER_SWEEP);
      if (keys.length > 0) await this.node.propose(this.node.kv.encodeProposal(expireCommand(keys, now)), undefined);
    } catch (err) {
      this.log(`expiry sweep: ${(err as Error).message}`);
    } finally {
      this.busy = false;
    }
  }
}
