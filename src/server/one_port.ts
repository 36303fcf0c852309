// One TCP listener for two protocols. gRPC clients speak HTTP/2 cleartext with prior knowledge
// (they open with the fixed 24-byte HTTP/2 preface); curl and browsers speak HTTP/1.1. We read
// the first bytes of each connection, put them back on the socket, and hand the socket to the
// HTTP/2 connection handler or, with `emit("connection", socket)`, to a node:http server, which
// then runs as if it had accepted it itself.
import * as net from "node:net";
import type * as http from "node:http";
import { CONNECTION_PREFACE as HTTP2_PREFACE } from "./h2/frames";
import type { ServerLogger } from "./logger";

/** A connection that has not sent enough to tell its protocol after this long is dropped. */
export const SNIFF_TIMEOUT_MS = 10_000;

export type SniffResult = "http2" | "http1" | "need-more";

/** Decides the protocol from the bytes received so far. */
export function sniffProtocol(head: Uint8Array): SniffResult {
  const n = Math.min(head.length, HTTP2_PREFACE.length);
  for (let i = 0; i < n; i++) if (head[i] !== HTTP2_PREFACE[i]) return "http1";
  return n === HTTP2_PREFACE.length ? "http2" : "need-more";
}

export interface OnePortOptions {
  host: string;
  port: number;
  http1: http.Server;
  /** Takes an HTTP/2 connection; its first bytes (the preface) are still to be read. */
  http2: (socket: net.Socket) => void;
  logger: ServerLogger;
}

export interface OnePortListener {
  port: number;
  /** Stops accepting; destroys the sockets still open after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

export function listenOnePort(opts: OnePortOptions): Promise<OnePortListener> {
  const sockets = new Set<net.Socket>();

  const route = (socket: net.Socket): void => {
    let head: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), SNIFF_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const protocol = sniffProtocol(head);
      if (protocol === "need-more") return;
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.pause();
      socket.unshift(head);
      if (protocol === "http2") opts.http2(socket);
      else opts.http1.emit("connection", socket);
      socket.resume();
    };
    const onEnd = (): void => {
      clearTimeout(timer);
      socket.destroy();
    };
    socket.on("data", onData);
    socket.on("end", onEnd);
  };

  const listener = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", (err) => opts.logger.debug(`socket error: ${err.message}`));
    socket.setNoDelay(true);
    route(socket);
  });

  const close = async (graceMs: number): Promise<void> => {
    const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
    if (sockets.size > 0) {
      const deadline = Date.now() + graceMs;
      while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const s of sockets) s.destroy();
    }
    await closed;
  };

  return new Promise((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(opts.port, opts.host, () => {
      listener.off("error", reject);
      listener.on("error", (err) => opts.logger.error(`listener error: ${err.message}`));
      const addr = listener.address() as net.AddressInfo;
      resolve({ port: addr.port, close });
    });
  });
}
