// The Raft peer transport: one long-lived TCP connection to each peer carrying length-prefixed
// Frame protobufs. send() queues messages per peer and writes them as one frame per peer per
// event-loop turn; inbound frames become one onMessages call each. Snapshots stream as chunk
// frames with windowed acknowledgement (see snapshot_sender.ts / snapshot_receiver.ts).
import * as net from "node:net";
import type { Message, NodeId } from "../raft/types";
import { formatHostPort, parseHostPort } from "./address";
import { InboundConnection } from "./inbound_connection";
import { OutboundPeer } from "./outbound_peer";
import { SnapshotSend } from "./snapshot_sender";
import {
  DEFAULT_TUNING,
  emptyPeerStats,
  type ListenOptions,
  type PeerStats,
  type TransportHandler,
  type TransportLogger,
  type TransportStats,
  type TransportTuning,
} from "./types";

export interface SnapshotIdentity {
  /** Meta index and term of the snapshot being sent (carried in every chunk). */
  index: number;
  term: number;
}

export class PeerTransport {
  private readonly peers = new Map<NodeId, OutboundPeer>();
  private readonly peerStats = new Map<NodeId, PeerStats>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly dirty = new Set<OutboundPeer>();
  private flushScheduled = false;
  private messagesToUnknownPeers = 0;
  private closed = false;

  private constructor(
    readonly id: NodeId,
    /** The address actually bound, "host:port" (the real port when 0 was asked for). */
    readonly listenAddr: string,
    private readonly server: net.Server,
    private readonly clusterId: bigint,
    private readonly handler: TransportHandler,
    private readonly logger: TransportLogger,
    private readonly tuning: TransportTuning,
  ) {
    server.on("connection", (socket: net.Socket) => this.accept(socket));
  }

  static async listen(opts: ListenOptions): Promise<PeerTransport> {
    const { host, port } = parseHostPort(opts.listenAddr);
    const tuning: TransportTuning = { ...DEFAULT_TUNING, ...opts.tuning };
    const server = net.createServer({ noDelay: true, pauseOnConnect: false });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host, port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const bound = server.address();
    const boundPort = bound !== null && typeof bound === "object" ? bound.port : port;
    const transport = new PeerTransport(
      opts.id,
      formatHostPort({ host, port: boundPort }),
      server,
      opts.clusterId ?? 0n,
      opts.handler,
      opts.logger ?? (() => {}),
      tuning,
    );
    server.on("error", (err: Error) => transport.logger("peer listener error", { error: err.message }));
    return transport;
  }

  /** Adds a peer or changes its address (dropping its current connection). */
  setPeer(id: NodeId, raftAddr: string): void {
    if (this.closed) return;
    parseHostPort(raftAddr);
    const existing = this.peers.get(id);
    if (existing) {
      existing.setAddress(raftAddr);
      return;
    }
    this.peers.set(
      id,
      new OutboundPeer({
        selfId: this.id,
        peerId: id,
        addr: raftAddr,
        clusterId: this.clusterId,
        tuning: this.tuning,
        stats: this.statsFor(id),
        logger: this.logger,
      }),
    );
  }

  removePeer(id: NodeId): void {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    this.dirty.delete(peer);
    peer.close();
  }

  /** Queues messages; each peer's messages of this turn leave as one frame. Never blocks. */
  send(msgs: readonly Message[]): void {
    if (this.closed) return;
    let i = 0;
    while (i < msgs.length) {
      // Consecutive messages to the same peer (the common shape of a Ready) go in one call.
      const to = msgs[i].to;
      let j = i + 1;
      while (j < msgs.length && msgs[j].to === to) j++;
      const peer = this.peers.get(to);
      if (peer) {
        peer.enqueue(i === 0 && j === msgs.length ? msgs : msgs.slice(i, j));
        this.dirty.add(peer);
      } else {
        this.messagesToUnknownPeers += j - i;
      }
      i = j;
    }
    if (this.dirty.size > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * Streams a snapshot to `to`. Resolves true once the peer received all of it and its runtime
   * accepted it; false on rejection, connection loss, no acknowledgement progress within the
   * timeout, close(), or a newer sendSnapshot to the same peer. Never rejects.
   */
  async sendSnapshot(to: NodeId, term: number, chunks: AsyncIterable<Uint8Array>, snapshot?: SnapshotIdentity): Promise<boolean> {
    const peer = this.peers.get(to);
    if (this.closed || !peer) return false;
    peer.snapshotCancel?.();
    let cancelled = false;
    let transfer: SnapshotSend | null = null;
    const cancel = () => {
      cancelled = true;
      transfer?.cancel();
    };
    peer.snapshotCancel = cancel;
    try {
      const conn = await peer.connection(this.tuning.connectTimeoutMs);
      if (conn === null || cancelled) return false;
      transfer = new SnapshotSend(conn, {
        from: this.id,
        to,
        term,
        snapshotIndex: snapshot?.index ?? 0,
        snapshotTerm: snapshot?.term ?? 0,
        chunkBytes: this.tuning.snapshotChunkBytes,
        window: this.tuning.snapshotWindow,
        ackTimeoutMs: this.tuning.snapshotAckTimeoutMs,
        stats: this.statsFor(to),
        logger: this.logger,
      });
      const outcome = await transfer.run(chunks);
      if (outcome !== "accepted") this.logger("snapshot send failed", { peer: to, outcome });
      return outcome === "accepted";
    } finally {
      if (peer.snapshotCancel === cancel) peer.snapshotCancel = null;
    }
  }

  stats(): TransportStats {
    const peers: Record<NodeId, PeerStats> = {};
    for (const [id, s] of this.peerStats) peers[id] = { ...s };
    return {
      id: this.id,
      listenAddr: this.listenAddr,
      inboundConnections: this.inbound.size,
      messagesToUnknownPeers: this.messagesToUnknownPeers,
      peers,
    };
  }

  /** Stops listening and closes every connection; snapshot sends in progress resolve false. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    this.dirty.clear();
    for (const conn of this.inbound) conn.destroy("transport closed");
    this.inbound.clear();
    await serverClosed;
  }

  private flush(): void {
    this.flushScheduled = false;
    const peers = [...this.dirty];
    this.dirty.clear();
    for (const peer of peers) peer.flush();
  }

  private accept(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const conn = new InboundConnection(
      socket,
      {
        selfId: this.id,
        clusterId: this.clusterId,
        handler: this.handler,
        logger: this.logger,
        maxFrameBytes: this.tuning.maxFrameBytes,
        maxQueuedSnapshotChunks: this.tuning.snapshotWindow * 2,
        statsFor: (peer) => this.statsFor(peer),
      },
      () => this.inbound.delete(conn),
    );
    this.inbound.add(conn);
  }

  private statsFor(peer: NodeId): PeerStats {
    let s = this.peerStats.get(peer);
    if (!s) {
      s = emptyPeerStats();
      this.peerStats.set(peer, s);
    }
    return s;
  }
}
