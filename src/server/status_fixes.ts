// Two corrections to what connect-es answers, made on its protocol-neutral ("universal")
// responses so that they apply to gRPC, gRPC-Web and Connect alike:
//
// 1. A request body that is not valid protobuf is the client's fault, INVALID_ARGUMENT, but
//    connect-es reports it as INTERNAL ("parse binary: ..."; JSON parse errors are already
//    INVALID_ARGUMENT).
//    Likewise a request over --max-request-bytes: connect-es says RESOURCE_EXHAUSTED ("message
//    size N is larger than configured readMaxBytes M"); rbkv's contract is INVALID_ARGUMENT
//    naming the limit.
// 2. connect-es writes the gRPC grpc-message trailer with encodeURIComponent, and @grpc/grpc-js
//    reads it with decodeURI, which leaves reserved characters encoded ("bytes%3B the limit").
//    The gRPC spec percent-encodes only bytes outside 0x20-0x7E and "%", which every client
//    decodes alike, so we re-encode it that way.
import type { ConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";

const PARSE_ERROR_PREFIX = "parse binary:";
const TOO_LARGE = /message size (\d+) is larger than configured readMaxBytes (\d+)/;
const GRPC_CODES: Record<string, string> = { internal: "13", resource_exhausted: "8", invalid_argument: "3" };
const CODE_NAMES: Record<string, string> = Object.fromEntries(Object.entries(GRPC_CODES).map(([k, v]) => [v, k]));

/** The corrected (code, message) of an error connect-es produced, or null when it is fine as it is. */
export function rewriteError(code: string, message: string): { code: string; message: string } | null {
  if (code === "internal" && message.startsWith(PARSE_ERROR_PREFIX)) return { code: "invalid_argument", message };
  const tooLarge = code === "resource_exhausted" ? TOO_LARGE.exec(message) : null;
  if (tooLarge) {
    return { code: "invalid_argument", message: `request is ${tooLarge[1]} bytes; the limit is ${tooLarge[2]} (--max-request-bytes)` };
  }
  return null;
}
const GRPC_WEB_TRAILER_FLAG = 0x80;
const CONNECT_END_STREAM_FLAG = 0x02;

/** Percent-encodes a status message as the gRPC HTTP/2 spec describes. */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(message)) {
    const printable = byte >= 0x20 && byte <= 0x7e && byte !== 0x25;
    out += printable ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** gRPC over HTTP/2: status and message live in real trailers. */
function fixGrpcTrailer(trailer: Headers): void {
  const raw = trailer.get("grpc-message");
  if (raw === null) return;
  let message = safeDecode(raw);
  const fixed = rewriteError(CODE_NAMES[trailer.get("grpc-status") ?? ""] ?? "", message);
  if (fixed) {
    trailer.set("grpc-status", GRPC_CODES[fixed.code]);
    message = fixed.message;
  }
  trailer.set("grpc-message", encodeGrpcMessage(message));
}

/** gRPC-Web: trailers are the body's last frame, as "name: value\r\n" text. */
function fixGrpcWebTrailerFrame(frame: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(frame.subarray(5));
  const status = /^grpc-status: ?(\d+)\r?$/m.exec(text)?.[1] ?? "";
  const message = safeDecode(/^grpc-message: ?(.*?)\r?$/m.exec(text)?.[1] ?? "");
  const fixed = rewriteError(CODE_NAMES[status] ?? "", message);
  if (!fixed) return frame;
  const lines = [`grpc-status: ${GRPC_CODES[fixed.code]}`, `grpc-message: ${encodeGrpcMessage(fixed.message)}`];
  for (const line of text.split(/\r?\n/)) if (line && !/^grpc-(status|message):/.test(line)) lines.push(line);
  return envelope(frame[0], new TextEncoder().encode(lines.join("\r\n") + "\r\n"));
}

interface ConnectErrorJson {
  code?: string;
  message?: string;
}

function fixErrorJson(e: ConnectErrorJson | undefined): ConnectErrorJson | null {
  const fixed = e ? rewriteError(e.code ?? "", e.message ?? "") : null;
  return fixed ? { ...e, code: fixed.code, message: fixed.message } : null;
}

/** Connect streaming: the end-stream frame carries {"error": {...}}. */
function fixConnectEndStreamFrame(frame: Uint8Array): Uint8Array {
  const end = JSON.parse(new TextDecoder().decode(frame.subarray(5))) as { error?: ConnectErrorJson };
  const fixed = fixErrorJson(end.error);
  if (!fixed) return frame;
  end.error = fixed;
  return envelope(frame[0], new TextEncoder().encode(JSON.stringify(end)));
}

function envelope(flags: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

function isWholeFrame(chunk: Uint8Array, flag: number): boolean {
  return chunk.length >= 5 && chunk[0] === flag && new DataView(chunk.buffer, chunk.byteOffset).getUint32(1) === chunk.length - 5;
}

async function* mapBody(
  body: AsyncIterable<Uint8Array>,
  mapChunk: (chunk: Uint8Array) => Uint8Array,
  atEnd: () => void,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) yield mapChunk(chunk);
  } finally {
    atEnd();
  }
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of body) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Connect unary: an error is a non-200 response with a JSON body. */
async function fixConnectUnaryError(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  const bytes = await readAll(res.body!);
  let error: ConnectErrorJson | undefined;
  try {
    error = JSON.parse(new TextDecoder().decode(bytes)) as ConnectErrorJson;
  } catch {
    error = undefined;
  }
  const corrected = fixErrorJson(error);
  if (!corrected) return { ...res, body: (async function* () { yield bytes; })() };
  const fixed = new TextEncoder().encode(JSON.stringify(corrected));
  const header = new Headers(res.header);
  header.set("content-length", String(fixed.length));
  return { ...res, status: 400, header, body: (async function* () { yield fixed; })() };
}

async function fixResponse(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  const contentType = res.header?.get("content-type") ?? "";
  const body = res.body;
  if (!body) return res;
  if (res.trailer) {
    const trailer = res.trailer;
    return { ...res, body: mapBody(body, (c) => c, () => fixGrpcTrailer(trailer)) };
  }
  if (contentType.startsWith("application/grpc-web")) {
    return { ...res, body: mapBody(body, (c) => (isWholeFrame(c, GRPC_WEB_TRAILER_FLAG) ? fixGrpcWebTrailerFrame(c) : c), () => {}) };
  }
  if (contentType.startsWith("application/connect+")) {
    return { ...res, body: mapBody(body, (c) => (isWholeFrame(c, CONNECT_END_STREAM_FLAG) ? fixConnectEndStreamFrame(c) : c), () => {}) };
  }
  if (res.status !== 200 && contentType.startsWith("application/json")) return fixConnectUnaryError(res);
  return res;
}

function withStatusFixes(handler: UniversalHandler): UniversalHandler {
  const wrapped = async (req: Parameters<UniversalHandler>[0]) => fixResponse(await handler(req));
  return Object.assign(wrapped, {
    protocolNames: handler.protocolNames,
    service: handler.service,
    method: handler.method,
    requestPath: handler.requestPath,
    allowedMethods: handler.allowedMethods,
    supportedContentType: handler.supportedContentType,
  });
}

/** Applies the fixes to every handler registered on `router` so far. */
export function applyStatusFixes(router: ConnectRouter): void {
  router.handlers.forEach((h, i) => (router.handlers[i] = withStatusFixes(h)));
}
