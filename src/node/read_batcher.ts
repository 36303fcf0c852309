/**
 * Linearizable reads share ReadIndex requests, as etcd's read loop does: at most one request is in
 * flight per node, and every read that arrives meanwhile waits for the next one. A read must not
 * take the index of a request sent before it arrived (that index could miss a write acknowledged
 * between the request and the read), so joining the request in flight is never allowed. Under
 * load, one heartbeat round and one leader round trip serve a whole batch of reads.
 */
export class ReadBatcher {
  private collecting: { resolve(index: number): void; reject(err: unknown): void }[] = [];
  private inFlight = false;
  private startScheduled = false;

  /** `request` asks Raft for a read index once (a new ctx each call). */
  constructor(private readonly request: () => Promise<number>) {}

  /** The read index of a request sent after this call. */
  next(): Promise<number> {
    const promise = new Promise<number>((resolve, reject) => this.collecting.push({ resolve, reject }));
    if (!this.inFlight && !this.startScheduled) {
      // Reads arriving in the same turn of the event loop go in the same request.
      this.startScheduled = true;
      queueMicrotask(() => {
        this.startScheduled = false;
        this.start();
      });
    }
    return promise;
  }

  private start(): void {
    if (this.inFlight || this.collecting.length === 0) return;
    const batch = this.collecting;
    this.collecting = [];
    this.inFlight = true;
    let request: Promise<number>;
    try {
      request = this.request();
    } catch (err) {
      request = Promise.reject(err);
    }
    request
      .then(
        (index) => {
          for (const r of batch) r.resolve(index);
        },
        (err) => {
          for (const r of batch) r.reject(err);
        },
      )
      .finally(() => {
        this.inFlight = false;
        this.start();
      });
  }
}
