// Watchers under faults: each follows the workload's prefix from revision 1, through a random
// running node; after any failure (stream error, compaction notice, nothing received for a
// while, or now and then on purpose) it reconnects to a random node with
// start_revision = last seen + 1. It keeps every event it saw, for watch_check.ts.
import { ConnectError } from "@connectrpc/connect";
import { EventType } from "../gen/rbkv/v1/kv_pb";
import type { ChaosNode } from "./chaos_cluster";
import type { Prng } from "./prng";

export interface SeenEvent {
  revision: number;
  type: "put" | "delete" | "expire";
  key: string;
  /** Value put; null for a delete. */
  value: string | null;
  node: string;
}

export interface WatcherOptions {
  prefix: string;
  targets: () => ChaosNode[];
  prng: Prng;
  /** Reconnect when a stream brings nothing for this long (a paused or cut-off node). */
  idleMs: number;
  /** Reconnect on purpose after a random time up to this long, to exercise resuming. */
  maxStreamMs: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class Watcher {
  readonly events: SeenEvent[] = [];
  /** Problems seen while watching (duplicates, order, compaction): each one fails the check. */
  readonly problems: string[] = [];
  reconnects = 0;
  lastRevision = 0;
  private stopping = false;
  private current: AbortController | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    readonly name: string,
    private readonly opts: WatcherOptions,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.current?.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const targets = this.opts.targets();
      if (targets.length === 0) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      await this.follow(this.opts.prng.pick(targets));
      if (!this.stopping) {
        this.reconnects++;
        await new Promise((r) => setTimeout(r, this.opts.prng.int(50, 300)));
      }
    }
  }

  /** One stream until it fails, goes idle, or its time is up. */
  private async follow(target: ChaosNode): Promise<void> {
    const abort = new AbortController();
    this.current = abort;
    const lifetime = setTimeout(() => abort.abort(), this.opts.prng.int(this.opts.maxStreamMs / 4, this.opts.maxStreamMs));
    let idle = setTimeout(() => abort.abort(), this.opts.idleMs);
    const end = enc.encode(prefixEnd(this.opts.prefix));
    try {
      const stream = target.kv.watch(
        { key: enc.encode(this.opts.prefix), rangeEnd: end, startRevision: BigInt(this.lastRevision + 1) },
        { signal: abort.signal },
      );
      for await (const res of stream) {
        clearTimeout(idle);
        idle = setTimeout(() => abort.abort(), this.opts.idleMs);
        if (res.compactRevision > 0n) {
          this.problems.push(`${this.name}: ${target.node.spec.name} says revision ${this.lastRevision + 1} is compacted (compact revision ${res.compactRevision})`);
          return;
        }
        for (const ev of res.events) this.record(ev.type, ev.kv?.key, ev.kv?.value, Number(ev.kv?.modRevision ?? 0n), target.node.spec.name);
      }
    } catch (err) {
      if (!(err instanceof ConnectError) && !(err instanceof Error)) throw err;
      // any failure: reconnect
    } finally {
      clearTimeout(lifetime);
      clearTimeout(idle);
      this.current = null;
    }
  }

  private record(type: EventType, key: Uint8Array | undefined, value: Uint8Array | undefined, revision: number, node: string): void {
    if (revision <= this.lastRevision) {
      this.problems.push(`${this.name}: event at revision ${revision} from ${node} after revision ${this.lastRevision} (duplicate or out of order)`);
      return;
    }
    const kind = type === EventType.PUT ? "put" : type === EventType.DELETE ? "delete" : "expire";
    this.events.push({ revision, type: kind, key: dec.decode(key), value: kind === "put" ? dec.decode(value) : null, node });
    this.lastRevision = revision;
  }
}

/** The range end that covers every key starting with `prefix` (prefix ends in a byte < 0xff). */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
