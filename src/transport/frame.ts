// Framing on a peer connection: each frame is a 4-byte big-endian length followed by that many
// bytes of an rbkv.raft.v1.Frame protobuf. FrameReader reassembles frames from arbitrary socket
// reads (partial frames, several frames in one read) without quadratic copying.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FrameSchema, type Frame } from "../gen/rbkv/raft/v1/raft_pb";

/** Default upper bound on one frame's payload; a larger length prefix closes the connection. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

const HEADER_BYTES = 4;

export class FrameTooLargeError extends Error {
  override name = "FrameTooLargeError";
  constructor(
    readonly length: number,
    readonly maxBytes: number,
  ) {
    super(`peer frame of ${length} bytes exceeds the limit of ${maxBytes} bytes; closing the connection`);
  }
}

/** Length prefix + Frame bytes, ready for one socket write. */
export function encodeFrame(frame: Frame): Uint8Array {
  const body = toBinary(FrameSchema, frame);
  return prefixLength(body);
}

export function prefixLength(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + body.length);
  new DataView(out.buffer).setUint32(0, body.length, false);
  out.set(body, HEADER_BYTES);
  return out;
}

/** Parses a frame payload (without its length prefix). Throws on malformed protobuf. */
export function decodeFrame(payload: Uint8Array): Frame {
  return fromBinary(FrameSchema, payload);
}

/**
 * Incremental frame splitter. push() returns the payloads completed by this read, in order.
 * A payload may share memory with the pushed chunk; callers must not reuse pushed buffers.
 */
export class FrameReader {
  private readonly header = new Uint8Array(HEADER_BYTES);
  private headerFill = 0;
  private body: Uint8Array | null = null;
  private bodyFill = 0;

  constructor(private readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {}

  /** Throws FrameTooLargeError when a length prefix is above the limit; the reader is then unusable. */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.body === null) {
        // Fast path: a whole header (and maybe a whole body) inside this chunk.
        if (this.headerFill === 0 && chunk.length - pos >= HEADER_BYTES) {
          const length = readUint32(chunk, pos);
          this.checkLength(length);
          pos += HEADER_BYTES;
          if (chunk.length - pos >= length) {
            out.push(chunk.subarray(pos, pos + length));
            pos += length;
          } else {
            this.startBody(length);
          }
          continue;
        }
        const take = Math.min(HEADER_BYTES - this.headerFill, chunk.length - pos);
        this.header.set(chunk.subarray(pos, pos + take), this.headerFill);
        this.headerFill += take;
        pos += take;
        if (this.headerFill < HEADER_BYTES) break;
        this.headerFill = 0;
        const length = readUint32(this.header, 0);
        this.checkLength(length);
        if (length === 0) out.push(new Uint8Array(0));
        else this.startBody(length);
        continue;
      }
      const body = this.body;
      const take = Math.min(body.length - this.bodyFill, chunk.length - pos);
      body.set(chunk.subarray(pos, pos + take), this.bodyFill);
      this.bodyFill += take;
      pos += take;
      if (this.bodyFill === body.length) {
        out.push(body);
        this.body = null;
        this.bodyFill = 0;
      }
    }
    return out;
  }

  /** Bytes held for a frame not yet complete. */
  bufferedBytes(): number {
    return this.headerFill + this.bodyFill;
  }

  private startBody(length: number): void {
    this.body = new Uint8Array(length);
    this.bodyFill = 0;
  }

  private checkLength(length: number): void {
    if (length > this.maxFrameBytes) throw new FrameTooLargeError(length, this.maxFrameBytes);
  }
}

function readUint32(buf: Uint8Array, pos: number): number {
  return ((buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]) >>> 0;
}
