// connect-es writes the grpc-message header with encodeURIComponent, but @grpc/grpc-js reads it
// with decodeURI, which leaves reserved characters encoded: a grpc-js user would see
// "key is 5000 bytes%3B the limit is ...". The gRPC spec asks for percent-encoding of only the
// bytes outside 0x20-0x7E and "%", which every client decodes the same way, so we re-encode
// grpc-message that way on gRPC responses before they are written.
import type { OutgoingHttpHeaders } from "node:http";
import type { NodeRequest, NodeResponse } from "./node_types";

const GRPC_MESSAGE = "grpc-message";

/** Percent-encodes a status message as the gRPC HTTP/2 spec describes. */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(message)) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function reencode(headers: OutgoingHttpHeaders | undefined): void {
  const value = headers?.[GRPC_MESSAGE];
  if (headers && typeof value === "string") {
    try {
      headers[GRPC_MESSAGE] = encodeGrpcMessage(decodeURIComponent(value));
    } catch {
      // Not percent-encoded as expected: leave it as it was.
    }
  }
}

interface HeaderWriter {
  writeHead(status: number, headers?: OutgoingHttpHeaders): unknown;
  addTrailers(trailers: OutgoingHttpHeaders): void;
}

/** Rewrites grpc-message in the headers and trailers `res` will write, for gRPC (not gRPC-Web) calls. */
export function useSpecGrpcMessageEncoding(req: NodeRequest, res: NodeResponse): void {
  const contentType = req.headers["content-type"] ?? "";
  if (!contentType.startsWith("application/grpc") || contentType.startsWith("application/grpc-web")) return;
  // Only the two call shapes connect-node uses (see universalResponseToNodeResponse).
  const out = res as unknown as HeaderWriter;
  const writeHead = out.writeHead.bind(out);
  const addTrailers = out.addTrailers.bind(out);
  out.writeHead = (status, headers) => {
    reencode(headers);
    return writeHead(status, headers);
  };
  out.addTrailers = (trailers) => {
    reencode(trailers);
    addTrailers(trailers);
  };
}
