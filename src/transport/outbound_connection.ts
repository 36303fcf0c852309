// One outbound TCP connection to a peer: opens it, introduces this node with a Hello frame, writes
// frames (one socket write each) and reads back the snapshot acknowledgements the peer sends.
import { create } from "@bufbuild/protobuf";
import * as net from "node:net";
import { HelloSchema, type SnapshotChunkAck } from "../gen/rbkv/raft/v1/raft_pb";
import type { NodeId } from "../raft/types";
import { parseHostPort } from "./address";
import { FrameReader } from "./frame";
import { decodeWireFrame, encodeHelloFrame } from "./message_wire";
import type { PeerStats, TransportLogger } from "./types";

export interface OutboundConnectionOptions {
  selfId: NodeId;
  peerId: NodeId;
  addr: string;
  clusterId: bigint;
  maxFrameBytes: number;
  /** Give up on a connection attempt not established within this time. */
  connectTimeoutMs: number;
  stats: PeerStats;
  logger: TransportLogger;
}

export class OutboundConnection {
  /** Resolves true once connected (Hello written), false if the connection failed first. */
  readonly opened: Promise<boolean>;
  /** Resolves when the socket is gone, whatever the reason. */
  readonly closed: Promise<void>;
  /** Receives snapshot acknowledgements from the peer (set by the active snapshot transfer). */
  onAck: ((ack: SnapshotChunkAck) => void) | null = null;
  private readonly socket: net.Socket;
  private readonly reader: FrameReader;
  private open = false;
  private gone = false;
  private openedAt = 0;

  constructor(private readonly opts: OutboundConnectionOptions) {
    this.reader = new FrameReader(opts.maxFrameBytes);
    const { host, port } = parseHostPort(opts.addr);
    let resolveOpened!: (ok: boolean) => void;
    let resolveClosed!: () => void;
    this.opened = new Promise((r) => (resolveOpened = r));
    this.closed = new Promise((r) => (resolveClosed = r));
    this.socket = net.connect({ host, port });
    this.socket.setNoDelay(true);
    const connectTimer = setTimeout(() => this.destroy("connect timeout"), opts.connectTimeoutMs);
    this.socket.on("connect", () => {
      clearTimeout(connectTimer);
      this.open = true;
      this.openedAt = Date.now();
      const hello = create(HelloSchema, { clusterId: opts.clusterId, from: opts.selfId, to: opts.peerId });
      this.write(encodeHelloFrame(hello));
      resolveOpened(true);
    });
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("error", (err: Error) => {
      opts.logger("peer connection error", { peer: opts.peerId, addr: opts.addr, error: err.message });
    });
    this.socket.on("close", () => {
      clearTimeout(connectTimer);
      this.open = false;
      this.gone = true;
      resolveOpened(false);
      resolveClosed();
    });
  }

  get isOpen(): boolean {
    return this.open;
  }

  get isGone(): boolean {
    return this.gone;
  }

  /** Milliseconds the connection has been open (0 if it never opened). */
  uptimeMs(): number {
    return this.openedAt === 0 ? 0 : Date.now() - this.openedAt;
  }

  /** Bytes accepted by write() and not yet handed to the kernel. */
  bufferedBytes(): number {
    return this.socket.writableLength;
  }

  /** Writes one length-prefixed frame. False when the connection is not open. */
  write(frame: Uint8Array): boolean {
    if (!this.open) return false;
    this.socket.write(frame);
    this.opts.stats.framesSent++;
    this.opts.stats.bytesSent += frame.length;
    return true;
  }

  destroy(reason: string): void {
    if (this.gone) return;
    this.opts.logger("closing peer connection", { peer: this.opts.peerId, reason });
    this.open = false;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let payloads: Uint8Array[];
    try {
      payloads = this.reader.push(chunk);
    } catch (err) {
      this.destroy(err instanceof Error ? err.message : String(err));
      return;
    }
    for (const payload of payloads) {
      let acks: SnapshotChunkAck[];
      try {
        acks = decodeWireFrame(payload).snapshotChunkAcks;
      } catch (err) {
        this.destroy(`undecodable frame: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      for (const ack of acks) this.onAck?.(ack);
    }
  }
}
