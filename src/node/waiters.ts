import { Code, ConnectError } from "@connectrpc/connect";

interface Deferred<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

function deferred<T>(): { promise: Promise<T>; handle: Deferred<T> } {
  let handle!: Deferred<T>;
  const promise = new Promise<T>((resolve, reject) => {
    handle = { resolve, reject };
  });
  return { promise, handle };
}

/**
 * Deadlines of all waiters, checked by one timer every SWEEP_MS rather than one timer per waiter
 * (a timer per write was a measurable part of the write path). A waiter may so give up up to
 * SWEEP_MS late.
 */
const SWEEP_MS = 50;

interface Deadline {
  at: number;
  expire(): void;
}

class Deadlines {
  private items = new Set<Deadline>();
  private timer: ReturnType<typeof setInterval> | null = null;

  add(d: Deadline): void {
    this.items.add(d);
    if (this.timer === null) {
      this.timer = setInterval(() => this.sweep(), SWEEP_MS);
      this.timer.unref?.();
    }
  }

  remove(d: Deadline): void {
    this.items.delete(d);
    if (this.items.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const d of this.items) {
      if (d.at > now) continue;
      this.remove(d);
      d.expire();
    }
  }
}

const deadlines = new Deadlines();

/**
 * A handle that settles `handle` and also gives up (calling onGiveUp, then rejecting) when the
 * signal aborts or the timeout passes; settling it clears both.
 */
function bound<T>(handle: Deferred<T>, signal: AbortSignal | undefined, timeoutMs: number, what: string, onGiveUp: () => void): Deferred<T> {
  const clear = () => {
    deadlines.remove(deadline);
    signal?.removeEventListener("abort", onAbort);
  };
  const deadline: Deadline = {
    at: Date.now() + timeoutMs,
    expire: () => {
      signal?.removeEventListener("abort", onAbort);
      onGiveUp();
      handle.reject(new ConnectError(`${what} did not finish within ${timeoutMs} ms; its outcome is unknown, check before retrying`, Code.DeadlineExceeded));
    },
  };
  const onAbort = () => {
    clear();
    onGiveUp();
    handle.reject(new ConnectError(`${what} cancelled by the client`, Code.Canceled));
  };
  deadlines.add(deadline);
  signal?.addEventListener("abort", onAbort, { once: true });
  return {
    resolve: (value) => {
      clear();
      handle.resolve(value);
    },
    reject: (err) => {
      clear();
      handle.reject(err);
    },
  };
}

/** `source`, given up on (rejected) when the signal aborts or after timeoutMs, like the waiters. */
export function waitBounded<T>(source: Promise<T>, signal: AbortSignal | undefined, timeoutMs: number, what: string): Promise<T> {
  const { promise, handle } = deferred<T>();
  const guarded = bound(handle, signal, timeoutMs, what, () => {});
  source.then(guarded.resolve, guarded.reject);
  return promise;
}

/**
 * Clients waiting for their proposal to apply. A proposal placed at (index, term) succeeded if the
 * entry applied at index has that term; any other term there means it was overwritten (never applied).
 */
export class ProposalWaiters<R> {
  private waiting = new Map<number, { term: number; handle: Deferred<R> }>();

  wait(index: number, term: number, signal: AbortSignal | undefined, timeoutMs: number): Promise<R> {
    const { promise, handle } = deferred<R>();
    this.waiting.set(index, { term, handle: bound(handle, signal, timeoutMs, "the write", () => this.waiting.delete(index)) });
    return promise;
  }

  applied(index: number, term: number, result: R): void {
    const w = this.waiting.get(index);
    if (!w) return;
    this.waiting.delete(index);
    if (w.term === term) w.handle.resolve(result);
    else w.handle.reject(new ConnectError("the write was lost in a leader change before it committed; it was not applied, retry it", Code.Unavailable));
  }

  /** A snapshot replaced the state up to index: the fate of writes at or below it is unknown here. */
  skippedTo(index: number): void {
    for (const [i, w] of this.waiting) {
      if (i > index) continue;
      this.waiting.delete(i);
      w.handle.reject(new ConnectError("the write's outcome is unknown (state replaced by a snapshot); check before retrying", Code.Unavailable));
    }
  }

  failAll(err: Error): void {
    for (const w of this.waiting.values()) w.handle.reject(err);
    this.waiting.clear();
  }
}

/** Waiters for the applied index to reach a point (linearizable reads). */
export class AppliedWaiters {
  private waiting: { index: number; handle: Deferred<void> }[] = [];
  private applied = 0;

  constructor(applied: number) {
    this.applied = applied;
  }

  wait(index: number, signal: AbortSignal | undefined, timeoutMs: number): Promise<void> {
    if (index <= this.applied) return Promise.resolve();
    const { promise, handle } = deferred<void>();
    const entry = {
      index,
      handle: bound(handle, signal, timeoutMs, "the read", () => {
        this.waiting = this.waiting.filter((w) => w !== entry);
      }),
    };
    this.waiting.push(entry);
    return promise;
  }

  advance(applied: number): void {
    if (applied <= this.applied) return;
    this.applied = applied;
    if (this.waiting.length === 0) return;
    const ready = this.waiting.filter((w) => w.index <= applied);
    if (ready.length === 0) return;
    this.waiting = this.waiting.filter((w) => w.index > applied);
    for (const w of ready) w.handle.resolve();
  }

  failAll(err: Error): void {
    for (const w of this.waiting) w.handle.reject(err);
    this.waiting = [];
  }
}

/** Reads waiting for Raft to hand back a read index for their ctx. */
export class ReadIndexWaiters {
  private waiting = new Map<string, Deferred<number>>();
  private seq = 0;

  constructor(private readonly prefix: string) {}

  /** A request shared by a batch of reads: no one caller's signal may end it, only the timeout. */
  register(timeoutMs: number): { ctx: string; index: Promise<number> } {
    const ctx = `${this.prefix}:${++this.seq}`;
    const { promise, handle } = deferred<number>();
    this.waiting.set(ctx, bound(handle, undefined, timeoutMs, "the read", () => this.waiting.delete(ctx)));
    return { ctx, index: promise };
  }

  resolve(ctx: string, index: number): void {
    const h = this.waiting.get(ctx);
    if (!h) return;
    this.waiting.delete(ctx);
    h.resolve(index);
  }

  reject(ctx: string, err: Error): void {
    const h = this.waiting.get(ctx);
    if (!h) return;
    this.waiting.delete(ctx);
    h.reject(err);
  }

  failAll(err: Error): void {
    for (const h of this.waiting.values()) h.reject(err);
    this.waiting.clear();
  }
}
