// The client-facing server: gRPC, gRPC-Web and Connect (JSON and binary) for rbkv.v1.KV,
// rbkv.v1.Cluster and grpc.health.v1.Health, plus an HTML page at GET /, all on one port.
import * as http from "node:http";
import type * as net from "node:net";
import { Code, ConnectError, createConnectRouter, type Interceptor } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { ClusterApi, KvApi, Limits, NodeIdentity } from "../node/api";
import { applyCors, type AllowedOrigins } from "./cors";
import { fastUnary } from "./fast_unary";
import { H2Connection } from "./h2/connection";
import { serveH2Streams } from "./h2_serve";
import type { HealthStatus } from "./health_service";
import { parseListenAddr } from "./listen_addr";
import { consoleLogger, type ServerLogger } from "./logger";
import type { NodeRequest, NodeResponse } from "./node_types";
import { listenOnePort } from "./one_port";
import { defaultPage, isPageRequest, servePage, type PageFn } from "./page";
import { handlerLookup, registerRoutes } from "./routes";

export interface ServerOptions {
  /** "host:port"; port 0 picks a free port (see RunningServer.port). */
  listenAddr: string;
  kv: KvApi;
  cluster: ClusterApi;
  limits: Limits;
  identity: NodeIdentity;
  /** SERVING when this node is a member and knows a leader. */
  health: () => HealthStatus;
  /** Serves GET / and GET /dashboard/...; default: a small page naming the node, its addresses and version. */
  page?: PageFn;
  logger?: ServerLogger;
  /** Origins browsers may call from; default "*". */
  corsOrigins?: AllowedOrigins;
  /** How long close() lets open calls finish before cutting connections; default 1000 ms. */
  closeGraceMs?: number;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

const DEFAULT_CLOSE_GRACE_MS = 1000;

/** Logs errors a handler threw that were not ConnectErrors: those are bugs, not client mistakes. */
function logUnexpectedErrors(logger: ServerLogger): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      if (!(err instanceof ConnectError)) {
        logger.error(`${req.method.parent.typeName}/${req.method.name} failed: ${err instanceof Error ? err.stack : String(err)}`);
      }
      throw err;
    }
  };
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const logger = opts.logger ?? consoleLogger;
  const page = opts.page ?? defaultPage(opts.identity);
  const corsOrigins = opts.corsOrigins ?? "*";
  const shutdown = new AbortController();

  // One set of connect-es handlers serves every RPC that does not take the lean path, on both
  // HTTP versions.
  const router = createConnectRouter({
    readMaxBytes: opts.limits.maxRequestBytes,
    // Strict JSON: an unknown field or enum name is a client mistake (INVALID_ARGUMENT), not silently
    // read as its default (an unknown consistency must not quietly become linearizable).
    jsonOptions: { ignoreUnknownFields: false },
    grpc: true,
    grpcWeb: true,
    connect: true,
    shutdownSignal: shutdown.signal,
    interceptors: [logUnexpectedErrors(logger)],
    acceptCompression: [compressionGzip, compressionBrotli],
  });
  registerRoutes(opts)(router);
  const handlerFor = handlerLookup(router.handlers);

  // HTTP/1.1 (browsers, curl): CORS, then the RPCs, then the node page.
  const http1 = http.createServer((req: NodeRequest, res: NodeResponse): void => {
    if (applyCors(req, res, corsOrigins)) return;
    const handler = handlerFor(req.url ?? "");
    if (!handler) {
      serveNonRpc(page, req, res, logger);
      return;
    }
    handler(universalRequestFromNodeRequest(req, res, undefined, undefined))
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch((err: unknown) => {
        // A client that went away mid-call is not a server failure.
        if (ConnectError.from(err).code === Code.Aborted) return;
        logger.error(`${handler.service.typeName}/${handler.method.name} failed on HTTP/1.1: ${err instanceof Error ? err.stack : String(err)}`);
      });
  });
  http1.on("error", (err) => logger.error(`http server error: ${err.message}`));

  // HTTP/2 (gRPC clients) is served by our own connection handling: the hot unary calls on the
  // lean path, every other RPC by the same handlers as above.
  const serveStream = serveH2Streams(fastUnary(opts.kv, opts.limits), handlerFor, page, logger);
  const sessions = new Set<H2Connection>();
  const http2 = (socket: net.Socket): void => {
    const connection = new H2Connection(socket, serveStream, () => sessions.delete(connection));
    sessions.add(connection);
  };

  const { host, port } = parseListenAddr(opts.listenAddr);
  const listener = await listenOnePort({ host, port, http1, http2, logger });
  logger.info(`rbkv ${opts.identity.id} serving gRPC, gRPC-Web and Connect on ${host}:${listener.port}`);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      shutdown.abort();
      for (const s of sessions) s.close();
      await listener.close(opts.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
    })();
    return closing;
  };
  return { port: listener.port, close };
}

/** GET / and /dashboard/... answer the node page; anything else that is not an RPC is 404. */
function serveNonRpc(page: PageFn, req: NodeRequest, res: NodeResponse, logger: ServerLogger): void {
  if (isPageRequest(req.method, req.url)) {
    servePage(page, req, res).catch((err: unknown) => {
      logger.error(`GET ${req.url} failed: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found\n");
}
