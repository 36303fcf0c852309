// Turns the messages queued for one peer in one turn into as few frames as possible: normally one,
// more only when the batch is larger than the soft frame size.
import type { Message } from "../raft/types";
import { encodeMessagesFrame, messageSize } from "./message_wire";

export interface EncodedBatch {
  /** Length-prefixed frame, ready for one socket write. */
  bytes: Uint8Array;
  messages: number;
}

/** Bytes a message adds to a frame besides its own encoding (field tag and length). */
const PER_MESSAGE_OVERHEAD = 6;

/**
 * Splits `msgs` into frames of at most about `softFrameBytes`. A single message above
 * `maxFrameBytes` cannot be sent; it is passed to `onTooLarge` and left out.
 */
export function encodeMessageBatches(
  msgs: readonly Message[],
  softFrameBytes: number,
  maxFrameBytes: number,
  onTooLarge: (m: Message, bytes: number) => void,
): EncodedBatch[] {
  const out: EncodedBatch[] = [];
  let current: Message[] = [];
  let currentBytes = 0;
  const emit = () => {
    if (current.length === 0) return;
    out.push({ bytes: encodeMessagesFrame(current), messages: current.length });
    current = [];
    currentBytes = 0;
  };
  for (const m of msgs) {
    const size = messageSize(m) + PER_MESSAGE_OVERHEAD;
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
