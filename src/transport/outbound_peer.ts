// Everything this node sends to one peer: a bounded queue of messages flushed once per turn, and
// one long-lived connection opened lazily and reopened after failures with exponential backoff.
// While there is no connection (backing off), messages are dropped: Raft retransmits.
import type { Message, NodeId } from "../raft/types";
import { encodeMessageBatches } from "./message_batch";
import { OutboundConnection } from "./outbound_connection";
import type { PeerStats, TransportLogger, TransportTuning } from "./types";

/** A connection that stayed up this long resets the backoff to its initial delay. */
const STABLE_CONNECTION_MS = 1000;

export interface OutboundPeerOptions {
  selfId: NodeId;
  peerId: NodeId;
  addr: string;
  clusterId: bigint;
  tuning: TransportTuning;
  stats: PeerStats;
  logger: TransportLogger;
}

type State = "idle" | "connecting" | "connected" | "backoff" | "closed";

export class OutboundPeer {
  private state: State = "idle";
  private conn: OutboundConnection | null = null;
  private queue: Message[] = [];
  private backoffMs: number;
  private backoffTimer: ReturnType<typeof setTimeout> | null = null;
  private connectionWaiters: Array<() => void> = [];
  /** Cancels the snapshot transfer in progress to this peer, if any. */
  snapshotCancel: (() => void) | null = null;

  constructor(private readonly opts: OutboundPeerOptions) {
    this.backoffMs = opts.tuning.backoffInitialMs;
  }

  get addr(): string {
    return this.opts.addr;
  }

  /** Points the peer at a new address; the current connection (if any) is dropped. */
  setAddress(addr: string): void {
    if (addr === this.opts.addr) return;
    this.opts.addr = addr;
    this.conn?.destroy("peer address changed");
  }

  /** Queues messages for the next flush; drops them while backing off or when the queue is full. */
  enqueue(msgs: readonly Message[]): void {
    if (this.state === "closed" || this.state === "backoff") {
      this.opts.stats.messagesDropped += msgs.length;
      return;
    }
    const room = this.opts.tuning.maxQueuedMessages - this.queue.length;
    if (room < msgs.length) this.opts.stats.messagesDropped += msgs.length - Math.max(room, 0);
    for (let i = 0; i < msgs.length && i < room; i++) this.queue.push(msgs[i]);
    if (this.state === "idle") this.connect();
  }

  /** Writes everything queued as few frames as possible (normally one). */
  flush(): void {
    if (this.queue.length === 0) return;
    const conn = this.conn;
    if (this.state !== "connected" || conn === null) {
      if (this.state !== "connecting") this.dropQueued();
      return;
    }
    const msgs = this.queue;
    this.queue = [];
    const { tuning, stats, logger, peerId } = this.opts;
    if (conn.bufferedBytes() > tuning.maxSocketBufferedBytes) {
      stats.messagesDropped += msgs.length;
      return;
    }
    const batches = encodeMessageBatches(msgs, tuning.softFrameBytes, tuning.maxFrameBytes, (m, estimate) => {
      stats.messagesDropped++;
      logger("raft message too large for a frame; dropped", { peer: peerId, type: m.type, bytes: estimate });
    });
    for (const batch of batches) {
      if (conn.write(batch.bytes)) stats.messagesSent += batch.messages;
      else stats.messagesDropped += batch.messages;
    }
  }

  /**
   * The open connection, opening one if needed (waiting out a backoff in progress); null if none
   * could be had within timeoutMs or the peer was closed.
   */
  async connection(timeoutMs: number): Promise<OutboundConnection | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.state !== "closed") {
      if (this.state === "connected" && this.conn?.isOpen) return this.conn;
      if (this.state === "idle") this.connect();
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.connectionWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return null;
  }

  close(): void {
    this.state = "closed";
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
    this.snapshotCancel?.();
    this.conn?.destroy("transport closed");
    this.conn = null;
    this.dropQueued();
    this.wakeWaiters();
  }

  private connect(): void {
    const { selfId, peerId, addr, clusterId, tuning, stats, logger } = this.opts;
    const conn = new OutboundConnection({
      selfId,
      peerId,
      addr,
      clusterId,
      maxFrameBytes: tuning.maxFrameBytes,
      connectTimeoutMs: tuning.connectTimeoutMs,
      stats,
      logger,
    });
    this.conn = conn;
    this.state = "connecting";
    void conn.opened.then((ok) => {
      if (this.conn !== conn || this.state === "closed") return;
      if (ok) {
        this.state = "connected";
        stats.connects++;
        stats.connected = true;
        this.flush();
        this.wakeWaiters();
      }
    });
    void conn.closed.then(() => {
      if (this.conn !== conn) return;
      this.conn = null;
      stats.connected = false;
      if (this.state === "closed") return;
      const wasUp = conn.uptimeMs();
      if (wasUp === 0) stats.connectFailures++;
      if (wasUp >= STABLE_CONNECTION_MS) this.backoffMs = tuning.backoffInitialMs;
      this.dropQueued();
      this.startBackoff();
    });
  }

  private startBackoff(): void {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.tuning.backoffMaxMs);
    this.state = "backoff";
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      if (this.state !== "backoff") return;
      this.state = "idle";
      if (this.connectionWaiters.length > 0) this.connect();
    }, delay);
  }

  private dropQueued(): void {
    this.opts.stats.messagesDropped += this.queue.length;
    this.queue = [];
  }

  private wakeWaiters(): void {
    const waiters = this.connectionWaiters;
    this.connectionWaiters = [];
    for (const w of waiters) w();
  }
}
