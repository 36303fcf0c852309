/**
 * A soft limit on the node's resident memory. JavaScriptCore sizes its heap for the machine (on a
 * machine with many GiB it lets garbage pile up to hundreds of MiB between collections), so
 * resident memory says little about what the node holds: a node with 1 GiB of data holds ~25 MiB
 * of live objects. When resident memory passes the limit, the governor runs a full collection,
 * which hands the freed memory back to the system; at most one per `minIntervalMs`, so a node
 * whose live data really is above the limit does not collect continuously; a collection that
 * leaves it above the limit having freed less than a tenth doubles that interval (up to a
 * minute), any other resets it (a store that has grown near the limit still gets its garbage
 * collected every interval, which is what bounds its peak under a bulk load).
 * Under a bulk load the garbage grows by tens of MiB a second, in bursts, hence the frequent
 * check (every 100 ms; reading the resident size costs ~12 µs) and the short interval (500 ms):
 * with 250 ms and 1 s the leader of a 1 GiB bulk load peaked at 258-277 MiB, with these at 239
 * (bench/README.md, Scale).
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

const MAX_INTERVAL_MS = 60_000;
const DEFAULT_MIN_INTERVAL_MS = 500;
const DEFAULT_CHECK_EVERY_MS = 100;

export class MemoryGovernor {
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastCollect = Number.NEGATIVE_INFINITY;
  private intervalMs: number;
  private readonly rss: () => number;
  private readonly collect: () => void;
  private readonly now: () => number;
  /** Full collections this governor has run. */
  collections = 0;

  constructor(private readonly opts: MemoryGovernorOptions) {
    this.rss = opts.rss ?? (() => process.memoryUsage.rss());
    this.collect = opts.collect ?? (() => Bun.gc(true));
    this.now = opts.now ?? Date.now;
    this.intervalMs = opts.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS;
  }

  start(): void {
    if (this.opts.limitBytes <= 0 || this.timer) return;
    this.timer = setInterval(() => this.check(), this.opts.checkEveryMs ?? DEFAULT_CHECK_EVERY_MS);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One check: collects if over the limit and the last collection is old enough. */
  check(): boolean {
    const before = this.rss();
    if (before <= this.opts.limitBytes || this.now() - this.lastCollect < this.intervalMs) return false;
    this.lastCollect = this.now();
    const started = performance.now();
    this.collect();
    const tookMs = performance.now() - started;
    this.collections++;
    const after = this.rss();
    const base = this.opts.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS;
    const futile = after > this.opts.limitBytes && before - after < before / 10;
    this.intervalMs = futile ? Math.min(this.intervalMs * 2, MAX_INTERVAL_MS) : base;
    this.opts.log?.(`memory: resident ${mib(before)} MiB over the soft limit of ${mib(this.opts.limitBytes)} MiB; collected garbage in ${tookMs.toFixed(1)} ms, now ${mib(after)} MiB`);
    return true;
  }
}

function mib(bytes: number): number {
  return Math.round(bytes / (1 << 20));
}
