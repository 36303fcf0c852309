// Public shapes of the peer transport: what the runtime hands in and what it can read back.
import type { Message, NodeId } from "../raft/types";

/** Receives what peers send. Called from socket callbacks; must not block. */
export interface TransportHandler {
  /** All Raft messages of one received frame, in the order they were sent. */
  onMessages(msgs: Message[]): void;
  /**
   * A peer streams a snapshot. Consume `chunks` (in order; the transport applies backpressure, so
   * pull only as fast as the data can be staged) and resolve true to accept it. The iterable
   * throws if the connection breaks or the sender gives up mid-stream: discard the staging area.
   */
  onSnapshot(from: NodeId, term: number, chunks: AsyncIterable<Uint8Array>): Promise<boolean>;
}

export type TransportLogger = (event: string, detail?: Record<string, string | number | boolean>) => void;

export interface ListenOptions {
  id: NodeId;
  /** "host:port"; port 0 asks the OS for a free port (see PeerTransport.listenAddr). */
  listenAddr: string;
  /** When set (non-zero), peers must present the same cluster id in their Hello. */
  clusterId?: bigint;
  logger?: TransportLogger;
  handler: TransportHandler;
  tuning?: Partial<TransportTuning>;
}

/** Bounds and timings; the defaults suit a LAN cluster. */
export interface TransportTuning {
  /** Largest frame payload accepted or produced; a bigger length prefix closes the connection. */
  maxFrameBytes: number;
  /** Messages queued for one peer in one turn are split into frames of about this size. */
  softFrameBytes: number;
  /** Messages held per peer while its connection is being opened; more are dropped. */
  maxQueuedMessages: number;
  /** Bytes waiting in a peer socket's write buffer above which new batches are dropped. */
  maxSocketBufferedBytes: number;
  /** Reconnect delay after a failure: starts here, doubles per failure up to backoffMaxMs. */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** A connection attempt is abandoned after this long; sendSnapshot waits at most this long for one. */
  connectTimeoutMs: number;
  /** Snapshot data per SnapshotChunk. */
  snapshotChunkBytes: number;
  /** Snapshot chunks sent and not yet acknowledged. */
  snapshotWindow: number;
  /** A snapshot send fails when no acknowledgement progress is seen for this long. */
  snapshotAckTimeoutMs: number;
}

export const DEFAULT_TUNING: TransportTuning = {
  maxFrameBytes: 64 * 1024 * 1024,
  softFrameBytes: 4 * 1024 * 1024,
  maxQueuedMessages: 65_536,
  maxSocketBufferedBytes: 64 * 1024 * 1024,
  backoffInitialMs: 50,
  backoffMaxMs: 1000,
  connectTimeoutMs: 5000,
  snapshotChunkBytes: 1024 * 1024,
  snapshotWindow: 4,
  snapshotAckTimeoutMs: 10_000,
};

/** Counters for one peer, both directions (received counts come from its inbound connections). */
export interface PeerStats {
  framesSent: number;
  messagesSent: number;
  bytesSent: number;
  framesReceived: number;
  messagesReceived: number;
  bytesReceived: number;
  /** Messages dropped: not connected, queue full, socket buffer full, or too large. */
  messagesDropped: number;
  connects: number;
  connectFailures: number;
  snapshotChunksSent: number;
  snapshotChunksReceived: number;
  connected: boolean;
}

export interface TransportStats {
  id: NodeId;
  listenAddr: string;
  inboundConnections: number;
  /** Messages addressed to a node that setPeer() never named. */
  messagesToUnknownPeers: number;
  peers: Record<NodeId, PeerStats>;
}

export function emptyPeerStats(): PeerStats {
  return {
    framesSent: 0,
    messagesSent: 0,
    bytesSent: 0,
    framesReceived: 0,
    messagesReceived: 0,
    bytesReceived: 0,
    messagesDropped: 0,
    connects: 0,
    connectFailures: 0,
    snapshotChunksSent: 0,
    snapshotChunksReceived: 0,
    connected: false,
  };
}
