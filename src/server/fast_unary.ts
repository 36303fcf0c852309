// A lean path for the hot unary KV calls (Get, Range, Put, Delete, Txn) over gRPC on HTTP/2:
// connect-es spends most of a small call's CPU in its generic machinery (async iterables,
// envelopes, interceptors, header objects). This path takes the HTTP/2 stream, reads the one
// framed message, decodes it, runs the same validation and the same KvApi call, and writes the
// framed answer with trailers. Everything else (other protocols, streaming, compression, the
// Cluster service) goes through connect-es, and the tests run the same RPCs through both.
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
import { EncodedHeaders, type HeaderField } from "./h2/hpack";
import type { H2Stream } from "./h2/stream";
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

/** Serves the hot calls; returns false for any other stream, which the caller serves. */
export function fastUnary(kv: KvApi, limits: Limits): (stream: H2Stream) => boolean {
  const routes = new Map<string, Route<DescMessage, DescMessage>>([
    ["/rbkv.v1.KV/Get", route({ input: GetRequestSchema, output: GetResponseSchema, run: (r) => (validateGet(r, limits), kv.get(r)) })],
    ["/rbkv.v1.KV/Range", route({ input: RangeRequestSchema, output: RangeResponseSchema, run: (r) => (validateRange(r, limits), kv.range(r)) })],
    ["/rbkv.v1.KV/Put", route({ input: PutRequestSchema, output: PutResponseSchema, run: (r, c) => (validatePut(r, limits), kv.put(r, undefined, c)) })],
    ["/rbkv.v1.KV/Delete", route({ input: DeleteRequestSchema, output: DeleteResponseSchema, run: (r, c) => (validateDelete(r, limits), kv.delete(r, undefined, c)) })],
    ["/rbkv.v1.KV/Txn", route({ input: TxnRequestSchema, output: TxnResponseSchema, run: (r, c) => (validateTxn(r, limits), kv.txn(r, undefined, c)) })],
  ]);
  return (stream) => {
    const r = stream.method === "POST" ? routes.get(stream.path) : undefined;
    if (!r) return false;
    const contentType = stream.header("content-type");
    const encoding = stream.header("grpc-encoding");
    if (!contentType || !GRPC_CONTENT_TYPES.has(contentType) || (encoding && encoding !== "identity")) return false;
    serve(r, stream, stream.header(FORWARDED_HEADER) === "1", limits);
    return true;
  };
}

/**
 * Serves one call. A client that goes away mid-call is not chased: the KV call finishes (a write
 * is in the log by then anyway) and its answer is dropped.
 */
function serve(r: Route<DescMessage, DescMessage>, stream: H2Stream, forwarded: boolean, limits: Limits): void {
  const maxBytes = limits.maxRequestBytes + 5;
  const chunks: Uint8Array[] = [];
  let size = 0;
  let refused = false;
  stream.onBody((chunk) => {
    if (refused || stream.aborted) return;
    if (chunk === null) {
      run(r, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), forwarded).then(
        (data) => respond(stream, data),
        (err) => fail(stream, err),
      );
      return;
    }
    size += chunk.length;
    if (size > maxBytes) {
      refused = true;
      fail(stream, new ConnectError(`request is over ${size - 5} bytes; the limit is ${maxBytes - 5} (--max-request-bytes)`, Code.InvalidArgument));
      return;
    }
    chunks.push(chunk);
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

function frame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  const n = message.length;
  out[1] = n >>> 24;
  out[2] = (n >>> 16) & 0xff;
  out[3] = (n >>> 8) & 0xff;
  out[4] = n & 0xff;
  out.set(message, 5);
  return out;
}

const GRPC_HEADERS: HeaderField[] = [[":status", "200"], ["content-type", "application/grpc"]];
const OK_HEADERS = new EncodedHeaders(GRPC_HEADERS);
const OK_TRAILERS = new EncodedHeaders([["grpc-status", "0"]]);

function respond(stream: H2Stream, data: Uint8Array): void {
  if (stream.aborted) return;
  stream.respond(OK_HEADERS);
  stream.writeNow(data);
  stream.end(OK_TRAILERS);
}

/** A trailers-only response: the status in the one HEADERS frame. */
function fail(stream: H2Stream, err: unknown): void {
  if (stream.aborted) return;
  const e = ConnectError.from(err);
  const fields: HeaderField[] = [...GRPC_HEADERS, ["grpc-status", String(e.code)]];
  if (e.rawMessage) fields.push(["grpc-message", encodeGrpcMessage(e.rawMessage)]);
  stream.respond(fields, true);
}
