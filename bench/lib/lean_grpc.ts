// A lean gRPC client for the benchmark: HTTP/2 spoken directly on a TCP socket
// (h2_client_session.ts, with the frame and HPACK code of rbkv's own server), pre-encoded request
// bodies, request headers indexed in the connection's HPACK table as gRPC clients do
// (header_indexer.ts), the writes of one turn in one socket write, and one
// sweep for deadlines instead of a timer per call. The same client measures rbkv and etcd, so its
// own cost (reported beside every figure) is the same for both; it replaced a client on Bun's
// node:http2, which cost about four times the CPU per call (bench/README.md).
import type { HeaderField } from "../../src/server/h2/hpack";
import { type Call, newCall, Session } from "./h2_client_session";

export class GrpcError extends Error {
  constructor(readonly status: number, message: string) {
    super(`grpc-status ${status}: ${message}`);
  }
}

/** What this client lets a peer send before it hears back, per stream and for the connection. */
const DEFAULT_RECEIVE_WINDOW = 16 << 20;
const GRPC_CANCELLED = 1;
const GRPC_DEADLINE_EXCEEDED = 4;
const SWEEP_MS = 250;

function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  new DataView(out.buffer).setUint32(1, body.length);
  out.set(body, 5);
  return out;
}

export class LeanGrpcClient {
  private session: Session | null = null;
  private readonly sessions = new Set<Session>();
  private readonly headerLists = new Map<string, HeaderField[]>();
  private sweeper: ReturnType<typeof setInterval> | null = null;
  private readonly host: string;
  private readonly port: number;

  constructor(
    readonly address: string,
    private readonly receiveWindow = DEFAULT_RECEIVE_WINDOW,
  ) {
    const colon = address.lastIndexOf(":");
    this.host = address.slice(0, colon).replace(/^\[|\]$/g, "");
    this.port = Number(address.slice(colon + 1));
  }

  unary(path: string, body: Uint8Array, timeoutMs = 10_000): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      let response: Uint8Array | null = null;
      const call = newCall(
        (m) => (response = m),
        (status, message) => {
          if (status === 0 && response) resolve(response);
          else reject(new GrpcError(status, message || "no response message"));
        },
        Date.now() + timeoutMs,
      );
      this.open(path, call, frame(body), true);
    });
  }

  /** Opens a stream, sends `body` (and keeps the request side open when `keepOpen`), calls onMessage per response. */
  stream(path: string, body: Uint8Array, onMessage: (m: Uint8Array) => void, keepOpen = false): { close(): void; done: Promise<void> } {
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const call = newCall(onMessage, () => resolveDone(), Number.POSITIVE_INFINITY);
    const session = this.open(path, call, frame(body), !keepOpen);
    return { close: () => session.cancel(call, GRPC_CANCELLED, "cancelled by the client"), done };
  }

  close(): void {
    for (const s of this.sessions) s.close();
    this.sessions.clear();
    this.session = null;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  private open(path: string, call: Call, body: Uint8Array, endStream: boolean): Session {
    const session = this.connect();
    session.start(call, path, this.requestHeaders(path), body, endStream);
    if (this.sweeper === null && Number.isFinite(call.deadline)) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      this.sweeper.unref?.();
    }
    return session;
  }

  private connect(): Session {
    if (this.session && !this.session.draining) return this.session;
    const s: Session = new Session(this.host, this.port, this.receiveWindow, () => {
      if (this.session === s) this.session = null;
      if (s.closed) this.sessions.delete(s);
    });
    this.sessions.add(s);
    this.session = s;
    return s;
  }

  private requestHeaders(path: string): HeaderField[] {
    let fields = this.headerLists.get(path);
    if (!fields) {
      fields = [
        [":method", "POST"],
        [":scheme", "http"],
        [":path", path],
        [":authority", this.address],
        ["content-type", "application/grpc"],
        ["te", "trailers"],
      ];
      this.headerLists.set(path, fields);
    }
    return fields;
  }

  /** Calls past their deadline are cancelled (RST_STREAM) and fail with DEADLINE_EXCEEDED. */
  private sweep(): void {
    const now = Date.now();
    for (const s of this.sessions) {
      for (const call of [...s.calls.values()]) if (call.deadline <= now) s.cancel(call, GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
    }
  }
}

