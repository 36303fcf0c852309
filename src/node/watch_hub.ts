import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Event, type ResponseHeader, type WatchRequest, type WatchResponse, WatchResponseSchema } from "../gen/rbkv/v1/kv_pb";
import { eventRevision } from "../kv/events";
import { inRange } from "../kv/range";
import type { AppliedBatch, KvStore } from "../kv/store";
import type { SoftState } from "../raft/types";

export interface WatchHubOptions {
  /** Events a watcher may have queued before it is cut off as too slow. */
  maxQueuedEvents: number;
  /** Idle time after which a progress_notify watcher gets an empty response. */
  progressIntervalMs: number;
  /** Events per response when replaying history. */
  historyPageEvents: number;
}

export const DEFAULT_WATCH_OPTIONS: WatchHubOptions = {
  maxQueuedEvents: 10_000,
  progressIntervalMs: 10_000,
  historyPageEvents: 1_000,
};

/**
 * Watch streams: replay from the stored history, then follow applied batches live, with no gap
 * and no duplicate between the two (events are ordered by revision; anything below the next
 * revision to send is dropped). Each watcher has a bounded queue; apply never waits for one.
 */
export class WatchHub {
  constructor(
    private readonly kv: KvStore,
    private readonly header: (revision?: bigint | number) => ResponseHeader,
    private readonly onSoftState: (listener: (s: SoftState) => void) => () => void,
    private readonly hasLeader: () => boolean,
    private readonly options: WatchHubOptions = DEFAULT_WATCH_OPTIONS,
  ) {}

  async *watch(req: WatchRequest, signal: AbortSignal): AsyncGenerator<WatchResponse> {
    const key = req.key;
    const rangeEnd = req.rangeEnd;
    const queue: Event[] = [];
    let overflow = false;
    let leaderLost = false;
    let wake: (() => void) | null = null;
    const notify = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    let replaced = false;
    const unsubscribe = this.kv.subscribe((batch: AppliedBatch) => {
      if (batch.replaced) replaced = true;
      if (overflow) return;
      for (const e of batch.events) {
        if (e.kv && inRange(e.kv.key, key, rangeEnd)) queue.push(e);
      }
      if (queue.length > this.options.maxQueuedEvents) {
        overflow = true;
        queue.length = 0;
      }
      notify();
    });
    const unwatchLeader = req.leaderRequired
      ? this.onSoftState((s) => {
          if (s.leader === null) {
            leaderLost = true;
            notify();
          }
        })
      : () => {};
    const onAbort = () => notify();
    signal.addEventListener("abort", onAbort);
    try {
      if (req.leaderRequired && !this.hasLeader()) {
        throw new ConnectError("no leader: this watch requires one (leader_required); retry", Code.Unavailable);
      }
      // "From now" starts after every write this node has already answered.
      await this.kv.writesSettled();
      const start = Number(req.startRevision);
      let next = start > 0 ? start : this.kv.revision() + 1;
      // Replay history up to what is stored now; live events queued meanwhile are deduplicated by `next`.
      if (start > 0) next = yield* this.catchUp(next, start, key, rangeEnd, req.prevKv, signal);
      let lastSent = Date.now();
      for (;;) {
        if (signal.aborted) return;
        if (overflow) {
          throw new ConnectError(`watcher fell behind by more than ${this.options.maxQueuedEvents} events and was cut off; resume with start_revision ${next}`, Code.ResourceExhausted);
        }
        if (leaderLost) throw new ConnectError("the node lost its leader (leader_required); retry the watch", Code.Unavailable);
        if (replaced) {
          // A snapshot install skipped live events: catch up from the history it brought.
          replaced = false;
          next = yield* this.catchUp(next, next, key, rangeEnd, req.prevKv, signal);
          continue;
        }
        const fresh = queue.splice(0).filter((e) => eventRevision(e) >= next);
        if (fresh.length > 0) {
          next = eventRevision(fresh[fresh.length - 1]) + 1;
          yield this.response(fresh, req.prevKv);
          lastSent = Date.now();
          continue;
        }
        if (req.progressNotify && Date.now() - lastSent >= this.options.progressIntervalMs) {
          yield create(WatchResponseSchema, { header: this.header() });
          lastSent = Date.now();
          continue;
        }
        const waitMs = req.progressNotify ? Math.max(1, this.options.progressIntervalMs - (Date.now() - lastSent)) : 60_000;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      unsubscribe();
      unwatchLeader();
      signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Sends the stored events from `next` up to the store's current revision and returns the next
   * revision to send. When `next` is older than the history, sends the compact revision and ends
   * the watch with OUT_OF_RANGE.
   */
  private async *catchUp(
    next: number,
    requested: number,
    key: Uint8Array,
    rangeEnd: Uint8Array,
    prevKv: boolean,
    signal: AbortSignal,
  ): AsyncGenerator<WatchResponse, number> {
    while (next <= this.kv.revision() && !signal.aborted) {
      const page = await this.kv.eventsSince(next, key, rangeEnd, this.options.historyPageEvents, prevKv);
      if (page.compactRevision > 0) {
        yield create(WatchResponseSchema, { header: this.header(), compactRevision: BigInt(page.compactRevision) });
        throw new ConnectError(
          `revision ${requested} is older than the watch history (first kept revision ${page.compactRevision}); restart the watch from ${page.compactRevision} or later after re-reading the keys`,
          Code.OutOfRange,
        );
      }
      if (page.events.length > 0) yield this.response(page.events, prevKv);
      if (page.nextRevision <= next) break;
      next = page.nextRevision;
    }
    return next;
  }

  private response(events: Event[], prevKv: boolean): WatchResponse {
    const out = prevKv ? events : events.map((e) => ({ ...e, prevKv: undefined }));
    return create(WatchResponseSchema, { header: this.header(), events: out });
  }
}
