// One accepted peer connection: checks the Hello, then turns each frame into one onMessages call
// and feeds snapshot chunks to the runtime, answering with SnapshotChunkAcks on the same socket.
import { create } from "@bufbuild/protobuf";
import type * as net from "node:net";
import { SnapshotChunkAckSchema, type SnapshotChunk } from "../gen/rbkv/raft/v1/raft_pb";
import type { NodeId } from "../raft/types";
import { FrameReader } from "./frame";
import { decodeWireFrame, encodeAckFrame, type DecodedFrame } from "./message_wire";
import { IncomingSnapshot } from "./snapshot_receiver";
import type { PeerStats, TransportHandler, TransportLogger } from "./types";

export interface InboundContext {
  selfId: NodeId;
  clusterId: bigint;
  handler: TransportHandler;
  logger: TransportLogger;
  maxFrameBytes: number;
  /** Chunks the runtime may leave unconsumed before the sender is considered misbehaving. */
  maxQueuedSnapshotChunks: number;
  statsFor(peer: NodeId): PeerStats;
}

export class InboundConnection {
  private readonly reader: FrameReader;
  private peer: NodeId | null = null;
  private stats: PeerStats | null = null;
  private snapshot: IncomingSnapshot | null = null;
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly ctx: InboundContext,
    onClose: () => void,
  ) {
    this.reader = new FrameReader(ctx.maxFrameBytes);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (err: Error) => ctx.logger("inbound peer connection error", { peer: this.peer ?? "?", error: err.message }));
    socket.on("close", () => {
      this.closed = true;
      this.snapshot?.abort("connection lost");
      this.snapshot = null;
      onClose();
    });
  }

  destroy(reason: string): void {
    if (this.closed) return;
    this.ctx.logger("closing inbound peer connection", { peer: this.peer ?? "?", reason });
    this.closed = true;
    this.snapshot?.abort(reason);
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let payloads: Uint8Array[];
    try {
      payloads = this.reader.push(chunk);
    } catch (err) {
      this.destroy(err instanceof Error ? err.message : String(err));
      return;
    }
    for (const payload of payloads) {
      if (this.closed) return;
      let frame: DecodedFrame;
      try {
        frame = decodeWireFrame(payload);
      } catch (err) {
        this.destroy(`undecodable frame: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      this.onFrame(frame, payload.length + 4);
    }
  }

  private onFrame(frame: DecodedFrame, wireBytes: number): void {
    if (this.stats === null && !this.acceptHello(frame)) return;
    const stats = this.stats!;
    stats.framesReceived++;
    stats.bytesReceived += wireBytes;
    if (frame.messages.length > 0) this.deliverMessages(frame);
    for (const chunk of frame.snapshotChunks) {
      if (this.closed) return;
      this.onSnapshotChunk(chunk);
    }
  }

  private acceptHello(frame: DecodedFrame): boolean {
    const hello = frame.hello;
    if (!hello) {
      this.destroy("first frame is not a Hello");
      return false;
    }
    if (hello.to !== this.ctx.selfId) {
      this.destroy(`Hello addressed to ${JSON.stringify(hello.to)}, this node is ${JSON.stringify(this.ctx.selfId)}`);
      return false;
    }
    if (this.ctx.clusterId !== 0n && hello.clusterId !== this.ctx.clusterId) {
      this.destroy(`Hello from cluster ${hello.clusterId}, this node is in cluster ${this.ctx.clusterId}`);
      return false;
    }
    if (hello.from === "") {
      this.destroy("Hello without a sender id");
      return false;
    }
    this.peer = hello.from;
    this.stats = this.ctx.statsFor(hello.from);
    return true;
  }

  private deliverMessages(frame: DecodedFrame): void {
    const msgs = frame.messages;
    this.stats!.messagesReceived += msgs.length;
    try {
      this.ctx.handler.onMessages(msgs);
    } catch (err) {
      this.ctx.logger("onMessages threw", { peer: this.peer ?? "?", error: err instanceof Error ? err.message : String(err) });
    }
  }

  private onSnapshotChunk(chunk: SnapshotChunk): void {
    this.stats!.snapshotChunksReceived++;
    if (chunk.offset === 0n) this.startSnapshot(chunk);
    const current = this.snapshot;
    if (current === null) return;
    const result = current.push(chunk);
    if (result === "ok" || result === "finished") return;
    this.ctx.logger("snapshot chunk refused", { peer: this.peer ?? "?", reason: result, offset: Number(chunk.offset) });
    current.settle(false);
  }

  private startSnapshot(first: SnapshotChunk): void {
    if (this.snapshot && !this.snapshot.finished) this.snapshot.abort("superseded by a new transfer");
    const from = this.peer!;
    const snapshotIndex = first.snapshotIndex;
    const term = Number(first.term);
    const incoming = new IncomingSnapshot(
      first,
      (offset, reject) => this.sendAck(snapshotIndex, term, offset, reject),
      this.ctx.maxQueuedSnapshotChunks,
    );
    this.snapshot = incoming;
    let verdict: Promise<boolean>;
    try {
      verdict = this.ctx.handler.onSnapshot(from, term, incoming.chunks);
    } catch (err) {
      verdict = Promise.reject(err);
    }
    verdict.then(
      (accepted) => incoming.settle(accepted === true),
      (err: unknown) => {
        this.ctx.logger("onSnapshot failed", { peer: from, error: err instanceof Error ? err.message : String(err) });
        incoming.settle(false);
      },
    );
  }

  private sendAck(snapshotIndex: bigint, term: number, offset: number, reject: boolean): void {
    if (this.closed) return;
    const ack = create(SnapshotChunkAckSchema, {
      from: this.ctx.selfId,
      to: this.peer ?? "",
      term: BigInt(term),
      snapshotIndex,
      offset: BigInt(offset),
      reject,
    });
    this.socket.write(encodeAckFrame(ack));
  }
}
