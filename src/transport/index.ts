// The Raft peer transport's public surface.
export { PeerTransport, type SnapshotIdentity } from "./peer_transport";
export {
  DEFAULT_TUNING,
  type ListenOptions,
  type PeerStats,
  type TransportHandler,
  type TransportLogger,
  type TransportStats,
  type TransportTuning,
} from "./types";
export { decodeMessage, encodeMessage } from "./codec";
export { DEFAULT_MAX_FRAME_BYTES, FrameReader, FrameTooLargeError, decodeFrame, encodeFrame } from "./frame";
export { SnapshotAbortedError } from "./snapshot_receiver";
