// One request/response exchange on an H2Connection, as the handlers see it: the request's
// headers, its body as it arrives, and calls to answer (headers, data under flow control,
// trailers). Nothing here is per-call machinery a unary call does not use: the abort signal is
// created only when asked for.
import { ErrorCode, frameHeader, FrameType } from "./frames";
import type { EncodedHeaders, HeaderField } from "./hpack";
import type { H2Connection } from "./connection";

interface PendingData {
  data: Uint8Array;
  offset: number;
  done: (() => void) | null;
}

export class H2Stream {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly malformed: boolean;
  /** Request fields other than the pseudo-headers, names lowercase as sent. */
  readonly fields: HeaderField[] = [];
  remoteEnded = false;
  localEnded = false;
  closed = false;
  sendWindow: number;
  /** Request body bytes received while the request is still incomplete (the connection bounds their sum). */
  incompleteBytes = 0;
  /** Called for each piece of the request body, and with null at its end. */
  private listener: ((chunk: Uint8Array | null) => void) | null = null;
  private early: (Uint8Array | null)[] = [];
  private controller: AbortController | null = null;
  private abortReason: string | null = null;
  private pending: PendingData[] = [];
  private trailers: readonly HeaderField[] | EncodedHeaders | null = null;
  private headersSent = false;
  private ending = false;

  constructor(
    private readonly connection: H2Connection,
    readonly id: number,
    headers: HeaderField[],
    initialSendWindow: number,
  ) {
    this.sendWindow = initialSendWindow;
    let method = "";
    let path = "";
    let scheme = "";
    let authority = "";
    let malformed = false;
    let regular = false;
    for (const field of headers) {
      const [name, value] = field;
      if (name.startsWith(":")) {
        if (regular) malformed = true;
        if (name === ":method") method = value;
        else if (name === ":path") path = value;
        else if (name === ":scheme") scheme = value;
        else if (name === ":authority") authority = value;
        else malformed = true;
      } else {
        regular = true;
        if (name === "connection" || (name === "te" && value !== "trailers") || !isFieldName(name)) malformed = true;
        this.fields.push(field);
      }
    }
    this.method = method;
    this.path = path;
    this.authority = authority;
    this.malformed = malformed || method === "" || path === "" || scheme === "";
  }

  header(name: string): string | undefined {
    for (const [n, v] of this.fields) if (n === name) return v;
    return undefined;
  }

  /** Receives the request body: each chunk, then null at the end. Chunks that came earlier are replayed. */
  onBody(listener: (chunk: Uint8Array | null) => void): void {
    this.listener = listener;
    const early = this.early;
    this.early = [];
    for (const chunk of early) listener(chunk);
  }

  /** Aborted when the client resets the stream or the connection goes. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason !== null) this.controller.abort(new Error(this.abortReason));
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.abortReason !== null;
  }

  /** Sends the response headers; with `endStream` they are the whole response. */
  respond(fields: readonly HeaderField[] | EncodedHeaders, endStream = false): void {
    if (this.closed || this.localEnded || this.headersSent) return;
    this.headersSent = true;
    this.connection.sendHeaders(this, fields, endStream);
  }

  /** Queues response body bytes; resolves once they are handed to the socket. */
  write(data: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.enqueue(data, resolve));
  }

  /** Queues body bytes without waiting for them to leave (a unary answer). */
  writeNow(data: Uint8Array): void {
    this.enqueue(data, null);
  }

  /** Ends the response, after any body still queued: with trailers, or (null) an empty DATA frame. */
  end(trailers: readonly HeaderField[] | EncodedHeaders | null): void {
    if (this.closed || this.localEnded || this.ending) return;
    this.ending = true;
    this.trailers = trailers;
    this.connection.wantToSend(this);
  }

  private enqueue(data: Uint8Array, done: (() => void) | null): void {
    if (this.closed || this.localEnded) {
      done?.();
      return;
    }
    this.pending.push({ data, offset: 0, done });
    this.connection.wantToSend(this);
  }

  reset(code: ErrorCode = ErrorCode.Cancel): void {
    if (this.closed) return;
    this.connection.resetStream(this.id, code);
  }

  /** @internal */ deliverData(chunk: Uint8Array): void {
    if (this.listener) this.listener(chunk);
    else this.early.push(chunk);
  }

  /** @internal */ deliverEnd(): void {
    if (this.listener) this.listener(null);
    else this.early.push(null);
  }

  /** @internal */ abort(reason: string): void {
    if (this.abortReason !== null) return;
    this.abortReason = reason;
    this.controller?.abort(new Error(reason));
    for (const p of this.pending) p.done?.();
    this.pending = [];
    if (!this.remoteEnded) this.deliverEnd();
  }

  /**
   * @internal Frames as much queued data as the windows allow through `emit`; then, with nothing
   * left, the end of the response. True when the stream has nothing more to send.
   */
  flushPending(connectionWindow: number, maxFrame: number, emit: (header: Buffer, data: Uint8Array) => void): boolean {
    while (this.pending.length > 0) {
      const p = this.pending[0];
      const left = p.data.length - p.offset;
      const n = Math.min(left, maxFrame, this.sendWindow, connectionWindow);
      if (n <= 0 && left > 0) return false;
      const chunk = p.offset === 0 && n === p.data.length ? p.data : p.data.subarray(p.offset, p.offset + n);
      emit(frameHeader(n, FrameType.Data, 0, this.id), chunk);
      p.offset += n;
      this.sendWindow -= n;
      connectionWindow -= n;
      if (p.offset === p.data.length) {
        this.pending.shift();
        p.done?.();
      }
    }
    if (this.ending && !this.localEnded) {
      if (this.trailers) this.connection.sendHeaders(this, this.trailers, true);
      else this.connection.endWithData(this, emit);
    }
    return true;
  }
}

/**
 * RFC 9113 8.2.1: a field name is lowercase visible ASCII; anything else (an upper-case letter, a
 * space or control character, a byte past 0x7e) makes the request malformed.
 */
function isFieldName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || (c >= 0x41 && c <= 0x5a) || c >= 0x7f) return false;
  }
  return true;
}
