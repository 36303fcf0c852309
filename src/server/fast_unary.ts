// A lean path for the hot unary KV calls (Get, Range, Put, Delete, Txn) over gRPC on HTTP/2.
// connect-node spends most of a small call's CPU in its generic machinery (async iterables,
// envelopes, interceptors, header objects), and node:http2's compatibility layer (the
// request/response objects connect-node needs) costs as much again; this path takes the raw
// HTTP/2 stream, reads the one framed message, decodes it, runs the same validation and the same
// KvApi call, and writes the framed answer with trailers. Everything else (other protocols,
// streaming, compression, the Cluster service) still goes through the compatibility layer and
// connect-node, and the tests run the same RPCs through both.
import type * as http2 from "node:http2";
import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  DeleteRequestSchema,
  DeleteResponseSchema,
  GetRequestSchema,
  GetResponseSchema,
  PutRequestSchema,
  PutResponseSchema,
  RangeRequestSchema,
  RangeResponseSchema,
  TxnRequestSchema,
  TxnResponseSchema,
} from "../gen/rbkv/v1/kv_pb";
import type { CallContext, KvApi, Limits } from "../node/api";
import { FORWARDED_HEADER } from "./call_context";
import { encodeGrpcMessage } from "./status_fixes";
import { validateDelete, validateGet, validatePut, validateRange, validateTxn } from "./validate";

interface Route<I extends DescMessage, O extends DescMessage> {
  input: I;
  output: O;
  run(req: MessageShape<I>, ctx: CallContext): Promise<MessageShape<O>>;
}

function route<I extends DescMessage, O extends DescMessage>(r: Route<I, O>): Route<DescMessage, DescMessage> {
  return r as unknown as Route<DescMessage, DescMessage>;
}

const GRPC_CONTENT_TYPES = new Set(["application/grpc", "application/grpc+proto"]);

type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) => void;

/**
 * Puts the lean path in front of `server`'s own stream handler (the one that builds the
 * compatibility request/response and emits "request"): the hot calls are served from the raw
 * stream, every other stream is handed to the original handler untouched.
 */
export function installFastUnary(server: http2.Http2Server, kv: KvApi, limits: Limits): void {
  const routes = new Map<string, Route<DescMessage, DescMessage>>([
    ["/rbkv.v1.KV/Get", route({ input: GetRequestSchema, output: GetResponseSchema, run: (r) => (validateGet(r, limits), kv.get(r)) })],
    ["/rbkv.v1.KV/Range", route({ input: RangeRequestSchema, output: RangeResponseSchema, run: (r) => (validateRange(r, limits), kv.range(r)) })],
    ["/rbkv.v1.KV/Put", route({ input: PutRequestSchema, output: PutResponseSchema, run: (r, c) => (validatePut(r, limits), kv.put(r, undefined, c)) })],
    ["/rbkv.v1.KV/Delete", route({ input: DeleteRequestSchema, output: DeleteResponseSchema, run: (r, c) => (validateDelete(r, limits), kv.delete(r, undefined, c)) })],
    ["/rbkv.v1.KV/Txn", route({ input: TxnRequestSchema, output: TxnResponseSchema, run: (r, c) => (validateTxn(r, limits), kv.txn(r, undefined, c)) })],
  ]);
  const original = server.listeners("stream") as StreamListener[];
  if (original.length !== 1) throw new Error(`expected one HTTP/2 stream handler, found ${original.length}`);
  const fallback = original[0];
  server.removeListener("stream", fallback);
  server.on("stream", function (this: http2.Http2Server, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) {
    const r = headers[":method"] === "POST" ? routes.get(headers[":path"] ?? "") : undefined;
    const contentType = headers["content-type"];
    const encoding = headers["grpc-encoding"];
    if (!r || !contentType || !GRPC_CONTENT_TYPES.has(contentType) || (encoding && encoding !== "identity")) {
      fallback.call(this, stream, headers, ...rest);
      return;
    }
    serve(r, stream, headers[FORWARDED_HEADER] === "1", limits);
  });
}

/**
 * Serves one call. A client that goes away mid-call is not chased: the KV call finishes (a write
 * is in the log by then anyway) and its answer is dropped, so no abort machinery is set up per
 * call.
 */
function serve(r: Route<DescMessage, DescMessage>, stream: http2.ServerHttp2Stream, forwarded: boolean, limits: Limits): void {
  const maxBytes = limits.maxRequestBytes + 5;
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  stream.on("error", () => {
    // A reset stream: nothing to answer.
  });
  stream.on("data", (chunk: Buffer) => {
    if (refused) return;
    size += chunk.length;
    if (size > maxBytes) {
      refused = true;
      fail(stream, new ConnectError(`request is over ${size - 5} bytes; the limit is ${maxBytes - 5} (--max-request-bytes)`, Code.InvalidArgument));
      return;
    }
    chunks.push(chunk);
  });
  stream.on("end", () => {
    if (refused) return;
    run(r, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), forwarded).then(
      (data) => respond(stream, data),
      (err) => fail(stream, err),
    );
  });
}

async function run(r: Route<DescMessage, DescMessage>, body: Uint8Array, forwarded: boolean): Promise<Uint8Array> {
  const message = unframe(body);
  let input;
  try {
    input = fromBinary(r.input, message);
  } catch (err) {
    throw new ConnectError(`cannot decode the request: ${(err as Error).message}`, Code.InvalidArgument);
  }
  const output = await r.run(input, { forwarded });
  return frame(toBinary(r.output, output));
}

function unframe(body: Uint8Array): Uint8Array {
  if (body.length < 5) throw new ConnectError("the request is not a gRPC message (shorter than its 5-byte prefix)", Code.InvalidArgument);
  if (body[0] !== 0) throw new ConnectError("compressed gRPC messages are not accepted on this path", Code.Unimplemented);
  const length = ((body[1] << 24) | (body[2] << 16) | (body[3] << 8) | body[4]) >>> 0;
  if (length !== body.length - 5) throw new ConnectError(`the gRPC message prefix says ${length} bytes but ${body.length - 5} arrived`, Code.InvalidArgument);
  return body.subarray(5);
}

/** A Buffer, not a plain Uint8Array: the stream would otherwise wrap it in one on every write. */
function frame(message: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(5 + message.length);
  const n = message.length;
  out[0] = 0;
  out[1] = n >>> 24;
  out[2] = (n >>> 16) & 0xff;
  out[3] = (n >>> 8) & 0xff;
  out[4] = n & 0xff;
  out.set(message, 5);
  return out;
}

function gone(stream: http2.ServerHttp2Stream): boolean {
  return stream.destroyed || stream.closed || stream.headersSent;
}

function respond(stream: http2.ServerHttp2Stream, data: Uint8Array): void {
  if (gone(stream)) return;
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.once("wantTrailers", () => wantTrailers(stream));
  stream.end(data);
}

const OK_TRAILERS = { "grpc-status": "0" };
let trailersDue: http2.ServerHttp2Stream[] = [];

/**
 * Bun writes trailers sent from inside the "wantTrailers" event straight to the socket, one
 * write per call; sent a microtask later they go through its write buffer, so the trailers of
 * every call answered in one turn (an applied batch of writes answers many) share one write.
 */
function wantTrailers(stream: http2.ServerHttp2Stream): void {
  trailersDue.push(stream);
  if (trailersDue.length === 1) queueMicrotask(sendDueTrailers);
}

function sendDueTrailers(): void {
  const due = trailersDue;
  trailersDue = [];
  for (const stream of due) {
    if (stream.destroyed || stream.closed) continue;
    try {
      stream.sendTrailers(OK_TRAILERS);
    } catch {
      // Reset between the two turns: nothing left to answer.
    }
  }
}

/** A trailers-only response: the status in the one HEADERS frame. */
function fail(stream: http2.ServerHttp2Stream, err: unknown): void {
  if (gone(stream)) return;
  const e = ConnectError.from(err);
  const headers: http2.OutgoingHttpHeaders = { ":status": 200, "content-type": "application/grpc", "grpc-status": String(e.code) };
  if (e.rawMessage) headers["grpc-message"] = encodeGrpcMessage(e.rawMessage);
  stream.respond(headers, { endStream: true });
}
