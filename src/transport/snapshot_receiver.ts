// The receiving end of one snapshot transfer: queues the chunks that arrive, hands them to the
// runtime through an async iterable in order, and acknowledges each chunk as the runtime takes it
// (that is the sender's flow control). The last chunk is acknowledged only with the runtime's
// verdict: reject=false once onSnapshot resolved true for the complete stream.
import type { SnapshotChunk } from "../gen/rbkv/raft/v1/raft_pb";

export type SendAck = (offset: number, reject: boolean) => void;

export class SnapshotAbortedError extends Error {
  override name = "SnapshotAbortedError";
}

export type ChunkResult = "ok" | "out-of-order" | "overflow" | "finished";

export class IncomingSnapshot {
  readonly snapshotIndex: number;
  private readonly queue: Uint8Array[] = [];
  private receivedBytes = 0;
  private deliveredBytes = 0;
  private doneReceived = false;
  private failure: Error | null = null;
  private settled = false;
  private wake: (() => void) | null = null;

  constructor(
    first: SnapshotChunk,
    private readonly sendAck: SendAck,
    private readonly maxQueuedChunks: number,
  ) {
    this.snapshotIndex = Number(first.snapshotIndex);
  }

  /** True once the transfer was decided (acked as accepted/rejected) or aborted. */
  get finished(): boolean {
    return this.settled;
  }

  /** The chunks, in order; throws SnapshotAbortedError if the transfer breaks off. */
  readonly chunks: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => this.iterate() };

  push(chunk: SnapshotChunk): ChunkResult {
    if (this.settled) return "finished";
    if (this.doneReceived || Number(chunk.offset) !== this.receivedBytes) return "out-of-order";
    if (this.queue.length >= this.maxQueuedChunks) return "overflow";
    if (chunk.data.length > 0) this.queue.push(chunk.data);
    this.receivedBytes += chunk.data.length;
    this.doneReceived = chunk.done;
    this.signal();
    return "ok";
  }

  /** Ends the transfer without a verdict: the runtime's iterable throws. */
  abort(reason: string): void {
    if (this.settled) return;
    this.settled = true;
    this.failure = new SnapshotAbortedError(`snapshot transfer aborted: ${reason}`);
    this.queue.length = 0;
    this.signal();
  }

  /** Ends the transfer with the runtime's verdict and tells the sender. */
  settle(accepted: boolean): void {
    if (this.settled) return;
    const complete = this.doneReceived && this.queue.length === 0 && this.deliveredBytes === this.receivedBytes;
    const ok = accepted && complete;
    this.settled = true;
    if (!ok) this.failure = new SnapshotAbortedError("snapshot transfer rejected");
    this.queue.length = 0;
    this.signal();
    this.sendAck(ok ? this.receivedBytes : this.deliveredBytes, !ok);
  }

  private async *iterate(): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.failure) throw this.failure;
      const next = this.queue.shift();
      if (next !== undefined) {
        this.deliveredBytes += next.length;
        const isLast = this.doneReceived && this.queue.length === 0;
        if (!isLast) this.sendAck(this.deliveredBytes, false);
        yield next;
        continue;
      }
      if (this.doneReceived || this.settled) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
