// Turns the messages queued for one peer in one turn into as few frames as possible: normally one,
// more only when the batch is larger than the soft frame size.
import { create } from "@bufbuild/protobuf";
import { FrameSchema } from "../gen/rbkv/raft/v1/raft_pb";
import type { Message } from "../raft/types";
import { encodeMessage } from "./codec";
import { encodeFrame } from "./frame";

export interface EncodedBatch {
  /** Length-prefixed frame, ready for one socket write. */
  bytes: Uint8Array;
  messages: number;
}

/** Generous upper estimate of a message's encoded size (envelope + fields + entry framing). */
export function estimateMessageBytes(m: Message): number {
  let n = 64 + m.from.length + m.to.length;
  if (m.type === "app") for (const e of m.entries) n += 32 + e.data.length;
  else if (m.type === "readIndex" || m.type === "readIndexResp") n += m.ctx.length;
  else if (m.type === "snap" && m.snapshot) {
    for (const id of m.snapshot.conf.voters) n += 4 + id.length;
    for (const id of m.snapshot.conf.learners) n += 4 + id.length;
  }
  return n;
}

/**
 * Splits `msgs` into frames of at most about `softFrameBytes`. A single message estimated above
 * `maxFrameBytes` cannot be sent; it is passed to `onTooLarge` and left out.
 */
export function encodeMessageBatches(
  msgs: readonly Message[],
  softFrameBytes: number,
  maxFrameBytes: number,
  onTooLarge: (m: Message, estimate: number) => void,
): EncodedBatch[] {
  const out: EncodedBatch[] = [];
  let current: Message[] = [];
  let currentBytes = 0;
  const emit = () => {
    if (current.length === 0) return;
    const frame = create(FrameSchema, { messages: current.map(encodeMessage) });
    out.push({ bytes: encodeFrame(frame), messages: current.length });
    current = [];
    currentBytes = 0;
  };
  for (const m of msgs) {
    const size = estimateMessageBytes(m);
    if (size > maxFrameBytes) {
      onTooLarge(m, size);
      continue;
    }
    if (currentBytes + size > softFrameBytes) emit();
    current.push(m);
    currentBytes += size;
  }
  emit();
  return out;
}
