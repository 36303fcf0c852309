// The bytes an HTTP/2 endpoint produces in one turn of the event loop (answers, acknowledgements,
// window updates), handed to the socket in one write: one system call per turn instead of one
// per frame.
import type * as net from "node:net";

export class TurnWriter {
  private outbox: Uint8Array[] = [];
  private queued = false;

  constructor(
    private readonly socket: net.Socket,
    /** Called with the turn's bytes before they are written; false drops them (the caller closes). */
    private readonly admit: (bytes: Uint8Array) => boolean = () => true,
  ) {}

  push(bytes: Uint8Array): void {
    this.outbox.push(bytes);
    if (!this.queued) {
      this.queued = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Writes what is queued now (also called by the microtask). */
  flush(): void {
    this.queued = false;
    if (this.outbox.length === 0 || this.socket.destroyed) return;
    const out = this.outbox.length === 1 ? this.outbox[0] : Buffer.concat(this.outbox);
    this.outbox = [];
    if (this.admit(out)) this.socket.write(out);
  }
}
