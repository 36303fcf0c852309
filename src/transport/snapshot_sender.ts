// Streams one snapshot to a peer over its connection as SnapshotChunk frames, keeping at most
// `window` chunks unacknowledged. Succeeds only when the receiver acknowledged the whole stream
// without rejecting it (its final ack comes after its runtime accepted the snapshot).
import { create } from "@bufbuild/protobuf";
import { SnapshotChunkSchema, type SnapshotChunkAck } from "../gen/rbkv/raft/v1/raft_pb";
import type { NodeId } from "../raft/types";
import { encodeChunkFrame } from "./message_wire";
import type { OutboundConnection } from "./outbound_connection";
import { rechunk } from "./rechunk";
import type { PeerStats, TransportLogger } from "./types";

export interface SnapshotSendOptions {
  from: NodeId;
  to: NodeId;
  term: number;
  /** Identifies the snapshot (its meta index and term) to the receiver; 0 when unknown. */
  snapshotIndex: number;
  snapshotTerm: number;
  chunkBytes: number;
  window: number;
  ackTimeoutMs: number;
  stats: PeerStats;
  logger: TransportLogger;
}

export type SnapshotOutcome = "accepted" | "rejected" | "connection-lost" | "timeout" | "cancelled" | "source-failed";

/** A running transfer; cancel() makes run() finish with "cancelled" and closes the connection. */
export class SnapshotSend {
  private ackedOffset = 0;
  /** End offsets of the chunks sent and not yet acknowledged, oldest first. */
  private sentEnds: number[] = [];
  private sentBytes = 0;
  private lastSent = false;
  /** The ack that covered the whole stream after its last chunk left: the receiver accepted it. */
  private finalAck: SnapshotChunkAck | null = null;
  private ended: SnapshotOutcome | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly conn: OutboundConnection,
    private readonly opts: SnapshotSendOptions,
  ) {}

  cancel(): void {
    this.end("cancelled");
  }

  async run(chunks: AsyncIterable<Uint8Array>): Promise<SnapshotOutcome> {
    const { conn, opts } = this;
    conn.onAck = (ack) => this.onAck(ack);
    void conn.closed.then(() => this.end("connection-lost"));
    const source = rechunk(chunks, opts.chunkBytes);
    let offset = 0;
    try {
      for (;;) {
        // Wait for room in the window before pulling more data from the source.
        while (this.ended === null && this.sentEnds.length >= opts.window) await this.waitForProgress();
        if (this.ended !== null) break;
        let next: IteratorResult<{ data: Uint8Array; last: boolean }>;
        try {
          next = await source.next();
        } catch (err) {
          opts.logger("snapshot source failed", { peer: opts.to, error: err instanceof Error ? err.message : String(err) });
          this.end("source-failed");
          break;
        }
        if (this.ended !== null || next.done) break;
        const { data, last } = next.value;
        const chunk = create(SnapshotChunkSchema, {
          from: opts.from,
          to: opts.to,
          term: BigInt(opts.term),
          snapshotIndex: BigInt(opts.snapshotIndex),
          snapshotTerm: BigInt(opts.snapshotTerm),
          offset: BigInt(offset),
          data,
          done: last,
        });
        offset += data.length;
        if (!conn.write(encodeChunkFrame(chunk))) {
          this.end("connection-lost");
          break;
        }
        this.sentEnds.push(offset);
        this.sentBytes = offset;
        this.lastSent = last;
        opts.stats.snapshotChunksSent++;
        if (last) break;
      }
      while (this.ended === null && this.finalAck === null) await this.waitForProgress();
      if (this.finalAck !== null) this.end("accepted");
    } finally {
      if (conn.onAck !== null) conn.onAck = null;
      void source.return(undefined);
    }
    const outcome = this.ended ?? "cancelled";
    if (outcome === "timeout" || outcome === "cancelled" || outcome === "source-failed") {
      // The receiver is mid-stream; closing the connection makes its iterable throw.
      conn.destroy(`snapshot send ${outcome}`);
    }
    return outcome;
  }

  private onAck(ack: SnapshotChunkAck): void {
    if (Number(ack.snapshotIndex) !== this.opts.snapshotIndex) return;
    if (ack.reject) {
      this.end("rejected");
      return;
    }
    const acked = Number(ack.offset);
    if (acked > this.ackedOffset) {
      this.ackedOffset = acked;
      while (this.sentEnds.length > 0 && this.sentEnds[0] <= acked) this.sentEnds.shift();
    }
    // The receiver never acknowledges the last chunk before its runtime has decided, so an ack
    // covering the whole stream once the last chunk left is the final one.
    if (this.lastSent && acked >= this.sentBytes) this.finalAck = ack;
    this.signal();
  }

  private end(outcome: SnapshotOutcome): void {
    if (this.ended === null) this.ended = outcome;
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private waitForProgress(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.end("timeout"), this.opts.ackTimeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
