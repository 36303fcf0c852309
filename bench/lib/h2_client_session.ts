// One HTTP/2 connection of the benchmark's gRPC client (lean_grpc.ts): frames in and out on a
// TCP socket with rbkv's own frame and HPACK code, flow control both ways, SETTINGS and PING
// acknowledgements, GOAWAY and RST_STREAM; what a call sends and receives, not what it means.
import * as net from "node:net";
import {
  CONNECTION_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  ErrorCode,
  Flag,
  FRAME_HEADER_BYTES,
  frameHeader,
  FrameType,
  goAwayFrame,
  rstStreamFrame,
  Setting,
  settingsFrame,
  windowUpdateFrame,
} from "../../src/server/h2/frames";
import { HpackDecoder, type HeaderField } from "../../src/server/h2/hpack";
import { TurnWriter } from "../../src/server/h2/turn_writer";
import { HeaderIndexer } from "./header_indexer";

const GRPC_UNAVAILABLE = 14;

/** Splits a gRPC byte stream into messages. */
class MessageReader {
  private buf: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array, onMessage: (m: Uint8Array) => void): void {
    if (this.buf.length === 0) this.buf = chunk;
    else {
      const merged = new Uint8Array(this.buf.length + chunk.length);
      merged.set(this.buf);
      merged.set(chunk, this.buf.length);
      this.buf = merged;
    }
    while (this.buf.length >= 5) {
      const len = new DataView(this.buf.buffer, this.buf.byteOffset).getUint32(1);
      if (this.buf.length < 5 + len) break;
      onMessage(this.buf.subarray(5, 5 + len));
      this.buf = this.buf.subarray(5 + len);
    }
  }
}

export interface Call {
  id: number;
  reader: MessageReader;
  onMessage: (m: Uint8Array) => void;
  /** Called once, with the grpc-status (and message) the call ended with. */
  onEnd: (status: number, message: string) => void;
  deadline: number;
  /** Request body not yet sent (waiting for send window), and whether the request ends after it. */
  unsent: Uint8Array;
  endAfter: boolean;
  endSent: boolean;
  sendWindow: number;
  /** Response bytes taken since this client last widened the stream's window. */
  unacked: number;
  status: number | null;
  message: string;
  ended: boolean;
}

/**
 * One HTTP/2 connection carrying many calls. It does not queue calls past the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS (the benchmark opens 32 per connection); such a call would be
 * refused by the server and fail with UNAVAILABLE.
 */
export class Session {
  readonly calls = new Map<number, Call>();
  /** Calls waiting for the send window, in order. */
  private blocked: Call[] = [];
  private nextId = 1;
  private readonly socket: net.Socket;
  private readonly hpack = new HpackDecoder();
  private readonly headers = new HeaderIndexer();
  private readonly writer: TurnWriter;
  private input: Uint8Array = new Uint8Array(0);
  /** A header block spread over HEADERS and CONTINUATION frames. */
  private headerBlock: { id: number; parts: Uint8Array[]; endStream: boolean } | null = null;
  private sendWindow = DEFAULT_WINDOW;
  private peerStreamWindow = DEFAULT_WINDOW;
  private peerMaxFrame = DEFAULT_MAX_FRAME_SIZE;
  private unacked = 0;
  /** No new calls: GOAWAY received or the socket is gone. */
  draining = false;
  closed = false;

  constructor(host: string, port: number, private readonly receiveWindow: number, private readonly onGone: () => void) {
    this.socket = net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.writer = new TurnWriter(this.socket);
    this.queue(CONNECTION_PREFACE);
    this.queue(settingsFrame([[Setting.EnablePush, 0], [Setting.InitialWindowSize, receiveWindow]]));
    if (receiveWindow > DEFAULT_WINDOW) this.queue(windowUpdateFrame(0, receiveWindow - DEFAULT_WINDOW));
    this.socket.on("data", (chunk: Buffer) => this.receive(chunk));
    this.socket.on("error", () => {});
    this.socket.on("close", () => this.teardown("the connection closed"));
  }

  /** Starts a call; `key` names its header list (the same key, the same fields). */
  start(call: Call, key: string, fields: readonly HeaderField[], body: Uint8Array, endStream: boolean): void {
    const headerBlock = this.headers.block(key, fields);
    call.id = this.nextId;
    this.nextId += 2;
    call.sendWindow = this.peerStreamWindow;
    call.unsent = body;
    call.endAfter = endStream;
    this.calls.set(call.id, call);
    this.queue(frameHeader(headerBlock.length, FrameType.Headers, Flag.EndHeaders, call.id));
    this.queue(headerBlock);
    this.sendBody(call);
    if (call.unsent.length > 0) this.blocked.push(call);
  }

  cancel(call: Call, status: number, message: string): void {
    if (call.ended) return;
    this.queue(rstStreamFrame(call.id, ErrorCode.Cancel));
    this.finish(call, status, message);
  }

  close(): void {
    if (this.closed) return;
    this.draining = true;
    this.queue(goAwayFrame(0, ErrorCode.NoError));
    this.flush();
    this.socket.end();
    this.teardown("the client closed");
  }

  /** Sends as much of the call's body as the windows allow, ending the request side after it if asked. */
  private sendBody(call: Call): void {
    while (!call.endSent) {
      const room = Math.max(0, Math.min(this.sendWindow, call.sendWindow, this.peerMaxFrame));
      const n = Math.min(call.unsent.length, room);
      const last = n === call.unsent.length;
      const end = last && call.endAfter;
      // No room for the rest, or an empty body on a stream the caller keeps open.
      if (n === 0 && !end) return;
      this.queue(frameHeader(n, FrameType.Data, end ? Flag.EndStream : 0, call.id));
      if (n > 0) this.queue(call.unsent.subarray(0, n));
      call.unsent = call.unsent.subarray(n);
      this.sendWindow -= n;
      call.sendWindow -= n;
      call.endSent = end;
      if (last) return;
    }
  }

  private unblock(): void {
    const still: Call[] = [];
    for (const call of this.blocked) {
      if (call.ended) continue;
      this.sendBody(call);
      if (call.unsent.length > 0) still.push(call);
    }
    this.blocked = still;
  }

  private receive(chunk: Uint8Array): void {
    let buf: Uint8Array;
    if (this.input.length === 0) buf = chunk;
    else {
      buf = new Uint8Array(this.input.length + chunk.length);
      buf.set(this.input);
      buf.set(chunk, this.input.length);
    }
    let pos = 0;
    while (buf.length - pos >= FRAME_HEADER_BYTES) {
      const length = (buf[pos] << 16) | (buf[pos + 1] << 8) | buf[pos + 2];
      if (buf.length - pos < FRAME_HEADER_BYTES + length) break;
      const type = buf[pos + 3];
      const flags = buf[pos + 4];
      const id = ((buf[pos + 5] << 24) | (buf[pos + 6] << 16) | (buf[pos + 7] << 8) | buf[pos + 8]) & 0x7fffffff;
      const payload = buf.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + length);
      pos += FRAME_HEADER_BYTES + length;
      this.onFrame(type, flags, id, payload);
      if (this.closed) return;
    }
    this.input = pos === buf.length ? new Uint8Array(0) : buf.slice(pos);
  }

  private onFrame(type: number, flags: number, id: number, payload: Uint8Array): void {
    if (this.headerBlock && type !== FrameType.Continuation) return this.protocolError("a header block was interrupted");
    switch (type) {
      case FrameType.Data:
        return this.onData(id, flags, unpad(flags, payload));
      case FrameType.Headers: {
        let block = unpad(flags, payload);
        if (flags & Flag.Priority) block = block.subarray(5);
        this.headerBlock = { id, parts: [block], endStream: (flags & Flag.EndStream) !== 0 };
        if (flags & Flag.EndHeaders) this.endHeaderBlock();
        return;
      }
      case FrameType.Continuation:
        if (!this.headerBlock || this.headerBlock.id !== id) return this.protocolError("an unexpected CONTINUATION");
        this.headerBlock.parts.push(payload);
        if (flags & Flag.EndHeaders) this.endHeaderBlock();
        return;
      case FrameType.RstStream: {
        const call = this.calls.get(id);
        const code = payload.length >= 4 ? new DataView(payload.buffer, payload.byteOffset).getUint32(0) : 0;
        if (call) this.finish(call, call.status ?? GRPC_UNAVAILABLE, call.message || `stream reset by the server (HTTP/2 error ${code})`);
        return;
      }
      case FrameType.Settings:
        if (flags & Flag.Ack) return;
        this.onSettings(payload);
        this.queue(frameHeader(0, FrameType.Settings, Flag.Ack, 0));
        return;
      case FrameType.Ping:
        if (flags & Flag.Ack) return;
        this.queue(frameHeader(8, FrameType.Ping, Flag.Ack, 0));
        this.queue(payload.slice());
        return;
      case FrameType.GoAway: {
        const last = new DataView(payload.buffer, payload.byteOffset).getUint32(0) & 0x7fffffff;
        this.draining = true;
        this.onGone();
        for (const call of [...this.calls.values()]) if (call.id > last) this.finish(call, GRPC_UNAVAILABLE, "the server is going away (GOAWAY)");
        if (this.calls.size === 0) this.socket.end();
        return;
      }
      case FrameType.WindowUpdate: {
        const increment = new DataView(payload.buffer, payload.byteOffset).getUint32(0) & 0x7fffffff;
        if (id === 0) this.sendWindow += increment;
        else {
          const call = this.calls.get(id);
          if (call) call.sendWindow += increment;
        }
        this.unblock();
        return;
      }
      default:
        return; // PRIORITY and unknown frame types are ignored (RFC 9113 4.1, 5.3.2).
    }
  }

  private onData(id: number, flags: number, data: Uint8Array): void {
    const call = this.calls.get(id);
    this.unacked += data.length;
    if (this.unacked >= Math.max(this.receiveWindow, DEFAULT_WINDOW) / 2) {
      this.queue(windowUpdateFrame(0, this.unacked));
      this.unacked = 0;
    }
    if (!call) return;
    if (data.length > 0) {
      call.reader.push(data, call.onMessage);
      call.unacked += data.length;
      if (call.unacked >= this.receiveWindow / 2 && !(flags & Flag.EndStream)) {
        this.queue(windowUpdateFrame(id, call.unacked));
        call.unacked = 0;
      }
    }
    if (flags & Flag.EndStream) this.finish(call, call.status ?? GRPC_UNAVAILABLE, call.message || "the response ended without a grpc-status");
  }

  private endHeaderBlock(): void {
    const { id, parts, endStream } = this.headerBlock!;
    this.headerBlock = null;
    let fields: HeaderField[];
    try {
      fields = this.hpack.decode(parts.length === 1 ? parts[0] : Buffer.concat(parts));
    } catch (err) {
      return this.protocolError(`cannot decode a header block: ${(err as Error).message}`, ErrorCode.CompressionError);
    }
    const call = this.calls.get(id);
    if (!call) return;
    for (const [name, value] of fields) {
      if (name === ":status" && value !== "200") {
        call.status = GRPC_UNAVAILABLE;
        call.message = `HTTP status ${value}`;
      } else if (name === "grpc-status") call.status = Number(value);
      else if (name === "grpc-message") call.message = decodeURIComponent(value);
    }
    if (endStream) this.finish(call, call.status ?? GRPC_UNAVAILABLE, call.message || "the response ended without a grpc-status");
  }

  private onSettings(payload: Uint8Array): void {
    const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
    for (let i = 0; i + 6 <= payload.length; i += 6) {
      const key = view.getUint16(i);
      const value = view.getUint32(i + 2);
      if (key === Setting.InitialWindowSize) {
        const delta = value - this.peerStreamWindow;
        this.peerStreamWindow = value;
        for (const call of this.calls.values()) call.sendWindow += delta;
      } else if (key === Setting.MaxFrameSize) this.peerMaxFrame = value;
      else if (key === Setting.HeaderTableSize) this.headers.limit(value);
    }
    this.unblock();
  }

  private finish(call: Call, status: number, message: string): void {
    if (call.ended) return;
    call.ended = true;
    this.calls.delete(call.id);
    call.onEnd(status, message);
    if (this.draining && this.calls.size === 0 && !this.closed) this.socket.end();
  }

  private protocolError(message: string, code = ErrorCode.ProtocolError): void {
    this.queue(goAwayFrame(0, code, message));
    this.flush();
    this.socket.destroy();
    this.teardown(message);
  }

  private teardown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.draining = true;
    this.onGone();
    for (const call of [...this.calls.values()]) this.finish(call, GRPC_UNAVAILABLE, reason);
  }

  private queue(bytes: Uint8Array): void {
    if (!this.closed) this.writer.push(bytes);
  }

  private flush(): void {
    this.writer.flush();
  }
}

function unpad(flags: number, payload: Uint8Array): Uint8Array {
  if (!(flags & Flag.Padded) || payload.length === 0) return payload;
  return payload.subarray(1, payload.length - payload[0]);
}

/** A call not yet started: where its messages and its outcome go. */
export function newCall(onMessage: (m: Uint8Array) => void, onEnd: (status: number, message: string) => void, deadline: number): Call {
  return {
    id: 0,
    reader: new MessageReader(),
    onMessage,
    onEnd,
    deadline,
    unsent: new Uint8Array(0),
    endAfter: true,
    endSent: false,
    sendWindow: 0,
    unacked: 0,
    status: null,
    message: "",
    ended: false,
  };
}

