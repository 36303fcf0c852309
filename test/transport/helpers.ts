// Shared fixtures for transport tests: transports on OS-assigned ports with recording handlers.
import type { Message, NodeId } from "../../src/raft/types";
import { PeerTransport } from "../../src/transport/peer_transport";
import type { TransportHandler, TransportTuning } from "../../src/transport/types";

export interface RecordingHandler extends TransportHandler {
  frames: Message[][];
  messages: Message[];
}

export type SnapshotHandler = TransportHandler["onSnapshot"];

export function recordingHandler(onSnapshot?: SnapshotHandler): RecordingHandler {
  const frames: Message[][] = [];
  const messages: Message[] = [];
  return {
    frames,
    messages,
    onMessages(msgs) {
      frames.push(msgs);
      for (const m of msgs) messages.push(m);
    },
    onSnapshot: onSnapshot ?? (async () => false),
  };
}

export function listen(
  id: NodeId,
  handler: TransportHandler,
  opts: { listenAddr?: string; clusterId?: bigint; tuning?: Partial<TransportTuning> } = {},
): Promise<PeerTransport> {
  return PeerTransport.listen({
    id,
    listenAddr: opts.listenAddr ?? "127.0.0.1:0",
    clusterId: opts.clusterId,
    handler,
    tuning: opts.tuning,
  });
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

export function heartbeat(from: NodeId, to: NodeId, commit: number): Message {
  return { type: "heartbeat", from, to, term: 1, commit, readSeq: 0 };
}
