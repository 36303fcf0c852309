// Five ways a client can reach the server, behind one small interface, so each test can run
// every RPC through all of them. The grpc-js and fetch clients use none of the server's code.
import * as grpc from "@grpc/grpc-js";
import {
  create,
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescMessage,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  type JsonValue,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

export interface RpcClient {
  name: string;
  unary<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>, req: MessageInitShape<I>): Promise<MessageShape<O>>;
  stream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    req: MessageInitShape<I>,
    signal?: AbortSignal,
  ): AsyncIterable<MessageShape<O>>;
  close(): void;
}

export const CLIENT_KINDS = ["grpc-js", "connect-json-fetch", "grpc-web-fetch", "grpc-h2", "connect-h2"] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export function pathOf(method: { parent: { typeName: string }; name: string }): string {
  return `/${method.parent.typeName}/${method.name}`;
}

function fromGrpcError(err: grpc.ServiceError): ConnectError {
  return new ConnectError(err.details, err.code as number as Code);
}

export function grpcJsClient(port: number): RpcClient {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    name: "grpc-js",
    unary(method, req) {
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          pathOf(method),
          (m: MessageInitShape<typeof method.input>) => Buffer.from(toBinary(method.input, create(method.input, m))),
          (b: Buffer) => fromBinary(method.output, b),
          req,
          (err, res) => (err ? reject(fromGrpcError(err)) : resolve(res!)),
        );
      });
    },
    async *stream(method, req, signal) {
      const call = client.makeServerStreamRequest(
        pathOf(method),
        (m: MessageInitShape<typeof method.input>) => Buffer.from(toBinary(method.input, create(method.input, m))),
        (b: Buffer) => fromBinary(method.output, b),
        req,
      );
      signal?.addEventListener("abort", () => call.cancel(), { once: true });
      try {
        for await (const msg of call) yield msg as MessageShape<typeof method.output>;
      } catch (err) {
        throw fromGrpcError(err as grpc.ServiceError);
      }
    },
    close: () => client.close(),
  };
}

const CONNECT_CODES: Record<string, Code> = Object.fromEntries(
  Object.entries(Code)
    .filter(([, v]) => typeof v === "number")
    .map(([name, v]) => [name.replace(/[A-Z]/g, (c, i: number) => (i ? "_" : "") + c.toLowerCase()), v as Code]),
);

function connectErrorFromJson(body: unknown, status: number): ConnectError {
  const e = body as { code?: string; message?: string } | null;
  return new ConnectError(e?.message ?? `HTTP ${status}`, CONNECT_CODES[e?.code ?? ""] ?? Code.Unknown);
}

function envelope(flags: number, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(new ArrayBuffer(5 + payload.length));
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

/** Connect protocol with JSON bodies over plain fetch (HTTP/1.1, keep-alive), like curl would. */
export function connectJsonFetchClient(port: number): RpcClient {
  const base = `http://127.0.0.1:${port}`;
  return {
    name: "connect-json-fetch",
    async unary(method, req) {
      const res = await fetch(base + pathOf(method), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(toJson(method.input, create(method.input, req))),
      });
      const body: unknown = await res.json();
      if (res.status !== 200) throw connectErrorFromJson(body, res.status);
      return fromJson(method.output, body as JsonValue);
    },
    async *stream(method, req, signal) {
      const payload = new TextEncoder().encode(JSON.stringify(toJson(method.input, create(method.input, req))));
      const res = await fetch(base + pathOf(method), {
        method: "POST",
        headers: { "content-type": "application/connect+json" },
        body: envelope(0, payload),
        signal,
      });
      if (res.status !== 200) throw connectErrorFromJson(await res.json(), res.status);
      let buf = new Uint8Array(0);
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value: chunk } = await reader.read();
        if (done) throw new ConnectError("stream ended without an end-stream message", Code.Internal);
        const joined = new Uint8Array(buf.length + chunk.length);
        joined.set(buf);
        joined.set(chunk, buf.length);
        buf = joined;
        while (buf.length >= 5) {
          const len = new DataView(buf.buffer, buf.byteOffset).getUint32(1);
          if (buf.length < 5 + len) break;
          const flags = buf[0];
          const json: unknown = JSON.parse(new TextDecoder().decode(buf.subarray(5, 5 + len)));
          buf = buf.slice(5 + len);
          if (flags & 0x02) {
            const end = json as { error?: unknown };
            if (end.error) throw connectErrorFromJson(end.error, 200);
            return;
          }
          yield fromJson(method.output, json as JsonValue);
        }
      }
    },
    close: () => {},
  };
}

function transportClient(name: string, transport: Transport, close: () => void = () => {}): RpcClient {
  return {
    name,
    async unary(method, req) {
      return (await transport.unary(method, undefined, undefined, undefined, req)).message;
    },
    async *stream(method, req, signal) {
      const res = await transport.stream(method, signal, undefined, undefined, (async function* () { yield req; })());
      yield* res.message;
    },
    close,
  };
}

export function makeClient(kind: ClientKind, port: number): RpcClient {
  const baseUrl = `http://127.0.0.1:${port}`;
  switch (kind) {
    case "grpc-js":
      return grpcJsClient(port);
    case "connect-json-fetch":
      return connectJsonFetchClient(port);
    case "grpc-web-fetch":
      return transportClient(kind, createGrpcWebTransport({ baseUrl }));
    case "grpc-h2":
      return transportClient(kind, createGrpcTransport({ baseUrl }));
    case "connect-h2":
      return transportClient(kind, createConnectTransport({ baseUrl, httpVersion: "2" }));
  }
}
