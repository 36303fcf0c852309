// The server side of one HTTP/2 connection over a socket (cleartext, prior knowledge): frames in,
// streams out to `onStream`, responses framed back with flow control. Everything a connection
// writes in one turn of the event loop leaves in one socket write.
import type * as net from "node:net";
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
  MAX_WINDOW,
  rstStreamFrame,
  Setting,
  settingsFrame,
  windowUpdateFrame,
} from "./frames";
import { EncodedHeaders, encodeHeaders, HpackDecoder, HpackError, type HeaderField } from "./hpack";
import { H2Stream } from "./stream";
import { TurnWriter } from "./turn_writer";

export interface H2ConnectionOptions {
  /** Streams a client may have open at once; more are refused (REFUSED_STREAM). */
  maxConcurrentStreams?: number;
  /** Decoded request header list size limit. */
  maxHeaderListBytes?: number;
  /** Receive window announced for each stream and, scaled up, for the connection. */
  streamWindowBytes?: number;
  /**
   * Body bytes the connection may hold for requests still incomplete (default 64 MiB); the stream
   * that would go over is reset (ENHANCE_YOUR_CALM), so half-sent requests cannot pile up memory.
   */
  maxIncompleteRequestBytes?: number;
  /**
   * Streams the client may reset before their answer within `resetWindowMs` (default 1,000 in
   * 10 s); past it the connection is closed (ENHANCE_YOUR_CALM): opening and resetting streams
   * costs the client nothing and the server a handler call each ("rapid reset").
   */
  maxClientResets?: number;
  resetWindowMs?: number;
  /**
   * Bytes written to the socket and not yet taken by the client (default 16 MiB) past which the
   * connection is dropped. DATA already waits for the socket to drain; this bounds what a client
   * can provoke without reading (PING and SETTINGS acknowledgements, resets, header blocks).
   */
  maxUnsentBytes?: number;
}

/** A connection-level failure: GOAWAY with this code, then the socket closes. */
class ConnectionError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const MAX_FRAME_SIZE = DEFAULT_MAX_FRAME_SIZE;
/** Socket bytes waiting for the kernel above which DATA waits for "drain". */
const SOCKET_HIGH_WATER = 1 << 20;


export class H2Connection {
  private readonly streams = new Map<number, H2Stream>();
  private readonly decoder: HpackDecoder;
  private readonly maxStreams: number;
  private readonly streamWindow: number;
  private readonly connectionWindow: number;
  private readonly maxIncompleteRequestBytes: number;
  private readonly maxClientResets: number;
  private readonly resetWindowMs: number;
  private readonly maxUnsentBytes: number;
  private resetWindowStart = 0;
  private resetsInWindow = 0;
  private inbox: Buffer = Buffer.alloc(0);
  private prefaceSeen = false;
  private lastStreamId = 0;
  /** The stream whose header block is being continued, and its fragments so far. */
  private continuing: { id: number; flags: number; parts: Buffer[]; bytes: number } | null = null;
  private readonly writer: TurnWriter;
  /** Set once the connection is torn down (or failing): nothing more is read or written. */
  private closed = false;
  private goingAway = false;
  // Send side, set by the peer.
  private sendWindow = DEFAULT_WINDOW;
  private peerStreamWindow = DEFAULT_WINDOW;
  private peerMaxFrame = DEFAULT_MAX_FRAME_SIZE;
  /** Streams with DATA waiting for window or socket room, in the order they asked. */
  private readonly waiting = new Set<H2Stream>();
  // Receive side: bytes taken in and not yet given back with WINDOW_UPDATE.
  private unackedConnectionBytes = 0;
  private readonly unackedStreams = new Map<H2Stream, number>();
  /** Body bytes of requests whose END_STREAM has not come yet. */
  private incompleteRequestBytes = 0;

  constructor(
    private readonly socket: net.Socket,
    private readonly onStream: (stream: H2Stream) => void,
    private readonly onClose: () => void,
    options: H2ConnectionOptions = {},
  ) {
    this.maxStreams = options.maxConcurrentStreams ?? 1000;
    this.streamWindow = options.streamWindowBytes ?? 1 << 20;
    this.maxIncompleteRequestBytes = options.maxIncompleteRequestBytes ?? 64 << 20;
    this.maxClientResets = options.maxClientResets ?? 1000;
    this.resetWindowMs = options.resetWindowMs ?? 10_000;
    this.maxUnsentBytes = options.maxUnsentBytes ?? 16 << 20;
    this.writer = new TurnWriter(socket, (out) => this.admit(out));
    const maxHeaderListBytes = options.maxHeaderListBytes ?? 64 << 10;
    this.decoder = new HpackDecoder(4096, maxHeaderListBytes);
    this.queue(
      settingsFrame([
        [Setting.MaxConcurrentStreams, this.maxStreams],
        [Setting.InitialWindowSize, this.streamWindow],
        [Setting.MaxHeaderListSize, maxHeaderListBytes],
        [Setting.EnablePush, 0],
      ]),
    );
    this.connectionWindow = 16 * this.streamWindow;
    this.queue(windowUpdateFrame(0, this.connectionWindow - DEFAULT_WINDOW));
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("drain", () => this.pump());
    socket.on("close", () => this.teardown());
    socket.on("error", () => this.teardown());
  }

  /** Graceful close: no new streams; the socket ends when the open ones finish. */
  close(): void {
    if (this.closed || this.goingAway) return;
    this.goingAway = true;
    this.queue(goAwayFrame(this.lastStreamId, ErrorCode.NoError));
    if (this.streams.size === 0) this.endSocket();
  }

  // ------------------------------------------------------------------ receiving

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.inbox = this.inbox.length === 0 ? chunk : Buffer.concat([this.inbox, chunk]);
    try {
      let pos = 0;
      if (!this.prefaceSeen) {
        const n = Math.min(this.inbox.length, CONNECTION_PREFACE.length);
        if (!this.inbox.subarray(0, n).equals(CONNECTION_PREFACE.subarray(0, n))) throw new ConnectionError(ErrorCode.ProtocolError, "bad connection preface");
        if (n < CONNECTION_PREFACE.length) return;
        this.prefaceSeen = true;
        pos = CONNECTION_PREFACE.length;
      }
      const buf = this.inbox;
      while (buf.length - pos >= FRAME_HEADER_BYTES && !this.closed) {
        const length = (buf[pos] << 16) | (buf[pos + 1] << 8) | buf[pos + 2];
        if (length > MAX_FRAME_SIZE) throw new ConnectionError(ErrorCode.FrameSizeError, `frame of ${length} bytes`);
        if (buf.length - pos < FRAME_HEADER_BYTES + length) break;
        const type = buf[pos + 3];
        const flags = buf[pos + 4];
        const streamId = buf.readUInt32BE(pos + 5) & 0x7fffffff;
        const payload = buf.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + length);
        pos += FRAME_HEADER_BYTES + length;
        this.frame(type, flags, streamId, payload);
      }
      this.inbox = pos === buf.length ? Buffer.alloc(0) : buf.subarray(pos);
      this.giveBackWindow();
    } catch (err) {
      if (err instanceof ConnectionError) this.fail(err.code, err.message);
      else this.fail(ErrorCode.InternalError, String(err));
    }
  }

  private frame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.continuing && type !== FrameType.Continuation) throw new ConnectionError(ErrorCode.ProtocolError, "header block interrupted");
    switch (type) {
      case FrameType.Data:
        return this.onData(flags, streamId, payload);
      case FrameType.Headers:
        return this.onHeaders(flags, streamId, payload);
      case FrameType.Continuation:
        return this.onContinuation(flags, streamId, payload);
      case FrameType.Priority:
        if (streamId === 0) throw new ConnectionError(ErrorCode.ProtocolError, "PRIORITY on stream 0");
        if (payload.length !== 5) this.resetStream(streamId, ErrorCode.FrameSizeError);
        return;
      case FrameType.RstStream:
        if (streamId === 0) throw new ConnectionError(ErrorCode.ProtocolError, "RST_STREAM on stream 0");
        if (payload.length !== 4) throw new ConnectionError(ErrorCode.FrameSizeError, "RST_STREAM length");
        if (streamId > this.lastStreamId) throw new ConnectionError(ErrorCode.ProtocolError, "RST_STREAM on an idle stream");
        if (this.streams.has(streamId)) this.countClientReset();
        this.streams.get(streamId)?.abort(`the client reset the stream (code ${payload.readUInt32BE(0)})`);
        this.forget(streamId);
        return;
      case FrameType.Settings:
        return this.onSettings(flags, streamId, payload);
      case FrameType.PushPromise:
        throw new ConnectionError(ErrorCode.ProtocolError, "PUSH_PROMISE from a client");
      case FrameType.Ping:
        if (streamId !== 0) throw new ConnectionError(ErrorCode.ProtocolError, "PING on a stream");
        if (payload.length !== 8) throw new ConnectionError(ErrorCode.FrameSizeError, "PING length");
        if (!(flags & Flag.Ack)) this.queue(Buffer.concat([frameHeader(8, FrameType.Ping, Flag.Ack, 0), payload]));
        return;
      case FrameType.GoAway:
        if (streamId !== 0) throw new ConnectionError(ErrorCode.ProtocolError, "GOAWAY on a stream");
        this.goingAway = true;
        if (this.streams.size === 0) this.endSocket();
        return;
      case FrameType.WindowUpdate:
        return this.onWindowUpdate(streamId, payload);
      default:
        return; // Unknown frame types are ignored (RFC 9113 5.5).
    }
  }

  private countClientReset(): void {
    const now = Date.now();
    if (now - this.resetWindowStart > this.resetWindowMs) {
      this.resetWindowStart = now;
      this.resetsInWindow = 0;
    }
    if (++this.resetsInWindow > this.maxClientResets) throw new ConnectionError(ErrorCode.EnhanceYourCalm, "too many streams reset by the client");
  }

  /** Strips padding (and the priority fields of HEADERS) from a payload. */
  private unpad(flags: number, payload: Buffer, priorityBytes: number): Buffer {
    let start = 0;
    let end = payload.length;
    if (flags & Flag.Padded) {
      if (payload.length < 1) throw new ConnectionError(ErrorCode.FrameSizeError, "padded frame without pad length");
      end -= payload[0];
      start = 1;
    }
    start += priorityBytes;
    if (end < start) throw new ConnectionError(ErrorCode.ProtocolError, "padding longer than the frame");
    return payload.subarray(start, end);
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.ProtocolError, "HEADERS on stream 0");
    const fragment = this.unpad(flags, payload, flags & Flag.Priority ? 5 : 0);
    if (flags & Flag.EndHeaders) {
      this.headerBlock(streamId, flags, fragment);
    } else {
      this.continuing = { id: streamId, flags, parts: [fragment], bytes: fragment.length };
    }
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const c = this.continuing;
    if (!c || c.id !== streamId) throw new ConnectionError(ErrorCode.ProtocolError, "unexpected CONTINUATION");
    c.parts.push(payload);
    c.bytes += payload.length;
    if (c.bytes > 256 << 10) throw new ConnectionError(ErrorCode.EnhanceYourCalm, "header block too large");
    if (flags & Flag.EndHeaders) {
      this.continuing = null;
      this.headerBlock(streamId, c.flags, Buffer.concat(c.parts));
    }
  }

  private headerBlock(streamId: number, flags: number, block: Buffer): void {
    let fields: HeaderField[];
    try {
      // Always decoded, even for a stream about to be refused: the table must stay in step.
      fields = this.decoder.decode(block);
    } catch (err) {
      if (err instanceof HpackError) throw new ConnectionError(ErrorCode.CompressionError, err.message);
      throw err;
    }
    const endStream = (flags & Flag.EndStream) !== 0;
    const existing = this.streams.get(streamId);
    if (existing) {
      // Trailers from the client: they must end the stream; their contents are not used.
      if (!endStream) throw new ConnectionError(ErrorCode.ProtocolError, "second HEADERS without END_STREAM");
      this.remoteEnd(existing);
      return;
    }
    if (streamId % 2 === 0) throw new ConnectionError(ErrorCode.ProtocolError, "even stream id from a client");
    if (streamId <= this.lastStreamId) return; // A closed stream: late trailers, ignored.
    this.lastStreamId = streamId;
    if (this.goingAway || this.streams.size >= this.maxStreams) {
      this.queue(rstStreamFrame(streamId, ErrorCode.RefusedStream));
      return;
    }
    const stream = new H2Stream(this, streamId, fields, this.peerStreamWindow);
    if (stream.malformed) {
      this.queue(rstStreamFrame(streamId, ErrorCode.ProtocolError));
      return;
    }
    this.streams.set(streamId, stream);
    if (endStream) stream.remoteEnded = true;
    try {
      this.onStream(stream);
    } catch {
      // A request the handler could not even take (e.g. header bytes a Headers object refuses)
      // costs its own stream, not the connection.
      this.resetStream(streamId, ErrorCode.ProtocolError);
      return;
    }
    if (endStream) stream.deliverEnd();
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.ProtocolError, "DATA on stream 0");
    // Flow control counts the whole payload, padding included, whatever happens to the stream.
    this.unackedConnectionBytes += payload.length;
    const data = this.unpad(flags, payload, 0);
    const stream = this.streams.get(streamId);
    if (!stream) {
      if (streamId > this.lastStreamId) throw new ConnectionError(ErrorCode.ProtocolError, "DATA on an idle stream");
      this.queue(rstStreamFrame(streamId, ErrorCode.StreamClosed));
      return;
    }
    if (stream.remoteEnded) {
      this.resetStream(streamId, ErrorCode.StreamClosed);
      return;
    }
    const endStream = (flags & Flag.EndStream) !== 0;
    if (!endStream) {
      this.unackedStreams.set(stream, (this.unackedStreams.get(stream) ?? 0) + payload.length);
      stream.incompleteBytes += data.length;
      this.incompleteRequestBytes += data.length;
      if (this.incompleteRequestBytes > this.maxIncompleteRequestBytes) {
        this.resetStream(streamId, ErrorCode.EnhanceYourCalm);
        return;
      }
    }
    if (data.length > 0) stream.deliverData(data);
    if (endStream) this.remoteEnd(stream);
  }

  private remoteEnd(stream: H2Stream): void {
    stream.remoteEnded = true;
    this.releaseIncomplete(stream);
    this.unackedStreams.delete(stream);
    stream.deliverEnd();
    if (stream.localEnded) this.forget(stream.id);
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.ProtocolError, "SETTINGS on a stream");
    if (flags & Flag.Ack) {
      if (payload.length !== 0) throw new ConnectionError(ErrorCode.FrameSizeError, "SETTINGS ack with a payload");
      return;
    }
    if (payload.length % 6 !== 0) throw new ConnectionError(ErrorCode.FrameSizeError, "SETTINGS length");
    for (let i = 0; i < payload.length; i += 6) {
      const id = payload.readUInt16BE(i);
      const value = payload.readUInt32BE(i + 2);
      if (id === Setting.InitialWindowSize) {
        if (value > MAX_WINDOW) throw new ConnectionError(ErrorCode.FlowControlError, "initial window too large");
        const delta = value - this.peerStreamWindow;
        this.peerStreamWindow = value;
        for (const s of this.streams.values()) {
          s.sendWindow += delta;
          if (s.sendWindow > MAX_WINDOW) throw new ConnectionError(ErrorCode.FlowControlError, "stream window overflow");
        }
      } else if (id === Setting.MaxFrameSize) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 16_777_215) throw new ConnectionError(ErrorCode.ProtocolError, "bad max frame size");
        this.peerMaxFrame = value;
      } else if (id === Setting.EnablePush && value > 1) {
        throw new ConnectionError(ErrorCode.ProtocolError, "bad enable push");
      }
      // The header table size the peer lets us use does not matter: our encoder uses no table.
    }
    this.queue(frameHeader(0, FrameType.Settings, Flag.Ack, 0));
    this.pump();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new ConnectionError(ErrorCode.FrameSizeError, "WINDOW_UPDATE length");
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) throw new ConnectionError(ErrorCode.ProtocolError, "zero window increment");
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW) throw new ConnectionError(ErrorCode.FlowControlError, "connection window overflow");
    } else {
      const stream = this.streams.get(streamId);
      if (!stream) {
        if (streamId > this.lastStreamId) throw new ConnectionError(ErrorCode.ProtocolError, "WINDOW_UPDATE on an idle stream");
        return;
      }
      if (increment === 0) return this.resetStream(streamId, ErrorCode.ProtocolError);
      stream.sendWindow += increment;
      if (stream.sendWindow > MAX_WINDOW) return this.resetStream(streamId, ErrorCode.FlowControlError);
    }
    this.pump();
  }

  /**
   * Gives back receive window once half of it is used up (a small request never needs an update,
   * which spares a frame per call), per stream and for the connection.
   */
  private giveBackWindow(): void {
    if (this.unackedConnectionBytes >= this.connectionWindow / 2) {
      this.queue(windowUpdateFrame(0, this.unackedConnectionBytes));
      this.unackedConnectionBytes = 0;
    }
    for (const [stream, bytes] of this.unackedStreams) {
      if (bytes < this.streamWindow / 2) continue;
      this.queue(windowUpdateFrame(stream.id, bytes));
      this.unackedStreams.delete(stream);
    }
  }

  // ------------------------------------------------------------------ sending (used by H2Stream)

  /** @internal */ sendHeaders(stream: H2Stream, fields: readonly HeaderField[] | EncodedHeaders, endStream: boolean): void {
    const block = fields instanceof EncodedHeaders ? fields.block : encodeHeaders(fields);
    // One HEADERS frame, CONTINUATION only for blocks larger than a frame.
    let offset = 0;
    let first = true;
    do {
      const n = Math.min(block.length - offset, this.peerMaxFrame);
      const last = offset + n === block.length;
      const flags = (last ? Flag.EndHeaders : 0) | (first && endStream ? Flag.EndStream : 0);
      this.queue(frameHeader(n, first ? FrameType.Headers : FrameType.Continuation, flags, stream.id));
      this.queue(n === block.length ? block : block.subarray(offset, offset + n));
      offset += n;
      first = false;
    } while (offset < block.length);
    if (endStream) this.localEnd(stream);
  }

  /** @internal */ endWithData(stream: H2Stream, emit: (header: Buffer, data: Uint8Array) => void): void {
    emit(frameHeader(0, FrameType.Data, Flag.EndStream, stream.id), new Uint8Array(0));
    this.localEnd(stream);
  }

  /** @internal */ wantToSend(stream: H2Stream): void {
    this.waiting.add(stream);
    this.pump();
  }

  /** @internal */ resetStream(streamId: number, code: ErrorCode): void {
    const stream = this.streams.get(streamId);
    stream?.abort(`stream reset (code ${code})`);
    this.queue(rstStreamFrame(streamId, code));
    this.forget(streamId);
  }

  /** @internal */ localEnd(stream: H2Stream): void {
    stream.localEnded = true;
    // The answer is complete before the request: the rest of the request is not wanted.
    if (!stream.remoteEnded) this.queue(rstStreamFrame(stream.id, ErrorCode.NoError));
    this.forget(stream.id);
  }

  /** Sends queued DATA (and the trailers behind it) as far as the windows and the socket allow. */
  private pump(): void {
    while (this.waiting.size > 0 && this.sendWindow > 0 && !this.closed && this.socket.writableLength < SOCKET_HIGH_WATER) {
      let progressed = false;
      for (const stream of this.waiting) {
        const done = stream.flushPending(this.sendWindow, this.peerMaxFrame, (header, data) => {
          this.queue(header);
          if (data.length > 0) this.queue(data);
          this.sendWindow -= data.length;
          progressed = true;
        });
        if (done) {
          this.waiting.delete(stream);
          progressed = true;
        }
        if (this.sendWindow <= 0) break;
      }
      if (!progressed) break;
    }
  }

  private releaseIncomplete(stream: H2Stream): void {
    this.incompleteRequestBytes -= stream.incompleteBytes;
    stream.incompleteBytes = 0;
  }

  private forget(streamId: number): void {
    const stream = this.streams.get(streamId);
    if (!stream) return;
    this.releaseIncomplete(stream);
    this.streams.delete(streamId);
    this.waiting.delete(stream);
    this.unackedStreams.delete(stream);
    stream.closed = true;
    if (this.goingAway && this.streams.size === 0) this.endSocket();
  }

  private queue(bytes: Uint8Array): void {
    if (!this.closed) this.writer.push(bytes);
  }

  private flush(): void {
    this.writer.flush();
  }

  /** A client that does not read what it asks for is dropped: a GOAWAY would not reach it either. */
  private admit(out: Uint8Array): boolean {
    if (this.socket.writableLength + out.length <= this.maxUnsentBytes) return true;
    this.socket.destroy();
    this.teardown();
    return false;
  }

  private fail(code: ErrorCode, message: string): void {
    if (this.closed) return;
    this.queue(goAwayFrame(this.lastStreamId, code, message));
    this.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref?.();
    this.teardown();
  }

  private endSocket(): void {
    this.flush();
    this.socket.end();
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams.values()) {
      stream.closed = true;
      stream.abort("the connection closed");
    }
    this.streams.clear();
    this.waiting.clear();
    this.onClose();
  }
}
