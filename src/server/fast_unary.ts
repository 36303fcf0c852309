// A lean path for the hot unary KV calls (Get, Range, Put, Delete, Txn) over gRPC on HTTP/2.
// connect-node spends most of a small call's CPU in its generic machinery (async iterables,
// envelopes, interceptors, header objects); this path reads the one framed message, decodes it,
// runs the same validation and the same KvApi call, and writes the framed answer with trailers.
// Everything else (other protocols, streaming, compression, the Cluster service) still goes
// through connect-node, and the tests run the same RPCs through both.
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
  run(req: MessageShape<I>, signal: AbortSignal, ctx: CallContext): Promise<MessageShape<O>>;
}

function route<I extends DescMessage, O extends DescMessage>(r: Route<I, O>): Route<DescMessage, DescMessage> {
  return r as unknown as Route<DescMessage, DescMessage>;
}

const GRPC_CONTENT_TYPES = new Set(["application/grpc", "application/grpc+proto"]);

export type FastUnaryHandler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => boolean;

/** Returns a handler that serves a request and returns true, or returns false to pass it on. */
export function createFastUnary(kv: KvApi, limits: Limits): FastUnaryHandler {
  const routes = new Map<string, Route<DescMessage, DescMessage>>([
    ["/rbkv.v1.KV/Get", route({ input: GetRequestSchema, output: GetResponseSchema, run: (r, s) => (validateGet(r, limits), kv.get(r, s)) })],
    ["/rbkv.v1.KV/Range", route({ input: RangeRequestSchema, output: RangeResponseSchema, run: (r, s) => (validateRange(r, limits), kv.range(r, s)) })],
    ["/rbkv.v1.KV/Put", route({ input: PutRequestSchema, output: PutResponseSchema, run: (r, s, c) => (validatePut(r, limits), kv.put(r, s, c)) })],
    ["/rbkv.v1.KV/Delete", route({ input: DeleteRequestSchema, output: DeleteResponseSchema, run: (r, s, c) => (validateDelete(r, limits), kv.delete(r, s, c)) })],
    ["/rbkv.v1.KV/Txn", route({ input: TxnRequestSchema, output: TxnResponseSchema, run: (r, s, c) => (validateTxn(r, limits), kv.txn(r, s, c)) })],
  ]);
  return (req, res) => {
    if (req.method !== "POST") return false;
    const r = routes.get(req.url);
    if (!r) return false;
    const contentType = req.headers["content-type"];
    if (!contentType || !GRPC_CONTENT_TYPES.has(contentType)) return false;
    const encoding = req.headers["grpc-encoding"];
    if (encoding && encoding !== "identity") return false;
    void serve(r, req, res, limits);
    return true;
  };
}

async function serve(r: Route<DescMessage, DescMessage>, req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, limits: Limits): Promise<void> {
  const abort = new AbortController();
  const onClose = () => abort.abort();
  req.once("close", onClose);
  try {
    const body = await readBody(req, limits.maxRequestBytes + 5);
    const message = unframe(body);
    let input;
    try {
      input = fromBinary(r.input, message);
    } catch (err) {
      throw new ConnectError(`cannot decode the request: ${(err as Error).message}`, Code.InvalidArgument);
    }
    const forwarded = req.headers[FORWARDED_HEADER] === "1";
    const output = await r.run(input, abort.signal, { forwarded });
    if (abort.signal.aborted) return;
    respond(res, frame(toBinary(r.output, output)), 0, "");
  } catch (err) {
    if (abort.signal.aborted && res.stream.destroyed) return;
    const e = ConnectError.from(err);
    respond(res, null, e.code, e.rawMessage);
  } finally {
    req.off("close", onClose);
  }
}

function readBody(req: http2.Http2ServerRequest, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new ConnectError(`request is over ${size - 5} bytes; the limit is ${maxBytes - 5} (--max-request-bytes)`, Code.InvalidArgument));
        req.removeAllListeners("data");
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

function unframe(body: Uint8Array): Uint8Array {
  if (body.length < 5) throw new ConnectError("the request is not a gRPC message (shorter than its 5-byte prefix)", Code.InvalidArgument);
  if (body[0] !== 0) throw new ConnectError("compressed gRPC messages are not accepted on this path", Code.Unimplemented);
  const length = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(1);
  if (length !== body.length - 5) throw new ConnectError(`the gRPC message prefix says ${length} bytes but ${body.length - 5} arrived`, Code.InvalidArgument);
  return body.subarray(5);
}

function frame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

function respond(res: http2.Http2ServerResponse, data: Uint8Array | null, code: Code | 0, message: string): void {
  if (res.stream.destroyed || res.writableEnded) return;
  const trailers: Record<string, string> = { "grpc-status": String(code) };
  if (code !== 0 && message) trailers["grpc-message"] = encodeGrpcMessage(message);
  if (!res.headersSent) res.writeHead(200, { "content-type": "application/grpc" });
  res.addTrailers(trailers);
  if (data) res.end(data);
  else res.end();
}
