// A lean gRPC client on node:http2 for the benchmark: pre-encoded request bodies, no per-call
// schema work, one HTTP/2 session per endpoint. The same client measures rbkv and etcd, so the
// client's own cost (reported beside every figure) is the same for both.
import * as http2 from "node:http2";

export class GrpcError extends Error {
  constructor(readonly status: number, message: string) {
    super(`grpc-status ${status}: ${message}`);
  }
}

function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  new DataView(out.buffer).setUint32(1, body.length);
  out.set(body, 5);
  return out;
}

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

export class LeanGrpcClient {
  private session: http2.ClientHttp2Session | null = null;

  constructor(readonly address: string) {}

  private connect(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const s = http2.connect(`http://${this.address}`);
    s.on("error", () => {});
    s.on("close", () => {
      if (this.session === s) this.session = null;
    });
    this.session = s;
    return s;
  }

  unary(path: string, body: Uint8Array, timeoutMs = 10_000): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const req = this.connect().request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
      const reader = new MessageReader();
      let response: Uint8Array | null = null;
      const timer = setTimeout(() => req.close(http2.constants.NGHTTP2_CANCEL), timeoutMs);
      req.on("data", (chunk: Buffer) => reader.push(new Uint8Array(chunk), (m) => (response = m)));
      let status: string | undefined;
      let message = "";
      req.on("response", (headers) => {
        if (headers["grpc-status"] !== undefined) status = String(headers["grpc-status"]);
      });
      req.on("trailers", (trailers) => {
        status = String(trailers["grpc-status"]);
        message = decodeURIComponent(String(trailers["grpc-message"] ?? ""));
      });
      req.on("close", () => {
        clearTimeout(timer);
        if (status === "0" && response) resolve(response);
        else reject(new GrpcError(Number(status ?? 14), message || "stream closed"));
      });
      req.on("error", () => {});
      req.end(frame(body));
    });
  }

  /** Opens a stream, sends `body` (and keeps the request side open when `keepOpen`), calls onMessage per response. */
  stream(path: string, body: Uint8Array, onMessage: (m: Uint8Array) => void, keepOpen = false): { close(): void; done: Promise<void> } {
    const req = this.connect().request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    const reader = new MessageReader();
    req.on("data", (chunk: Buffer) => reader.push(new Uint8Array(chunk), onMessage));
    req.on("error", () => {});
    const done = new Promise<void>((resolve) => req.on("close", () => resolve()));
    if (keepOpen) req.write(frame(body));
    else req.end(frame(body));
    return { close: () => req.close(http2.constants.NGHTTP2_CANCEL), done };
  }

  close(): void {
    this.session?.close();
    this.session = null;
  }
}
