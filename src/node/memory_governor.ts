/**
 * A soft limit on the node's resident memory. JavaScriptCore sizes its heap for the machine (on a
 * machine with many GiB it lets garbage pile up to hundreds of MiB between collections), so
 * resident memory says little about what the node holds: a node with 1 GiB of data holds ~25 MiB
 * of live objects. When resident memory passes the limit, the governor runs a full collection,
 * which hands the freed memory back to the system; at most one per `minIntervalMs`, so a node
 * whose live data really is above the limit does not collect continuously.
 */
export interface MemoryGovernorOptions {
  limitBytes: number;
  checkEveryMs?: number;
  minIntervalMs?: number;
  rss?: () => number;
  collect?: () => void;
  now?: () => number;
  log?: (line: string) => void;
}

export class MemoryGovernor {
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastCollect = Number.NEGATIVE_INFINITY;
  private readonly rss: () => number;
  private readonly collect: () => void;
  private readonly now: () => number;
  /** Full collections this governor has run. */
  collections = 0;

  constructor(private readonly opts: MemoryGovernorOptions) {
    this.rss = opts.rss ?? (() => process.memoryUsage.rss());
    this.collect = opts.collect ?? (() => Bun.gc(true));
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.opts.limitBytes <= 0 || this.timer) return;
    this.timer = setInterval(() => this.check(), this.opts.checkEveryMs ?? 2_000);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One check: collects if over the limit and the last collection is old enough. */
  check(): boolean {
    const before = this.rss();
    if (before <= this.opts.limitBytes || this.now() - this.lastCollect < (this.opts.minIntervalMs ?? 10_000)) return false;
    this.lastCollect = this.now();
    this.collect();
    this.collections++;
    this.opts.log?.(`memory: resident ${mib(before)} MiB over the soft limit of ${mib(this.opts.limitBytes)} MiB; collected garbage, now ${mib(this.rss())} MiB`);
    return true;
  }
}

function mib(bytes: number): number {
  return Math.round(bytes / (1 << 20));
}
