// CORS for browsers calling with gRPC-Web or Connect from another origin.
import { cors } from "@connectrpc/connect";
import type { NodeRequest, NodeResponse } from "./node_types";

/** "*" allows every origin; otherwise the exact origins allowed. */
export type AllowedOrigins = "*" | readonly string[];

const PREFLIGHT_MAX_AGE_S = 7200;

function allowedOrigin(origin: string | undefined, allowed: AllowedOrigins): string | undefined {
  if (!origin) return undefined;
  if (allowed === "*" || allowed.includes(origin)) return origin;
  return undefined;
}

/**
 * Adds CORS headers to `res`. Returns true when the request was a preflight and has been answered.
 */
export function applyCors(req: NodeRequest, res: NodeResponse, allowed: AllowedOrigins): boolean {
  const originHeader = req.headers.origin;
  const origin = allowedOrigin(Array.isArray(originHeader) ? originHeader[0] : originHeader, allowed);
  const isPreflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
  if (origin === undefined) {
    if (!isPreflight) return false;
    res.writeHead(403, { "content-type": "text/plain" });
    res.end("origin not allowed\n");
    return true;
  }
  res.setHeader("access-control-allow-origin", origin);
  res.setHeader("vary", "Origin");
  if (!isPreflight) {
    res.setHeader("access-control-expose-headers", cors.exposedHeaders.join(", "));
    return false;
  }
  res.writeHead(204, {
    "access-control-allow-methods": cors.allowedMethods.join(", "),
    "access-control-allow-headers": cors.allowedHeaders.join(", "),
    "access-control-max-age": String(PREFLIGHT_MAX_AGE_S),
  });
  res.end();
  return true;
}
