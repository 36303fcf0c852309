// What an HTTP/2 stream gets: the lean path for the hot unary calls, connect-es (as "universal"
// handlers: gRPC, gRPC-Web and Connect, streaming included) for every other RPC, the node page for
// GET / and /dashboard/, 404 for the rest.
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import type { HeaderField } from "./h2/hpack";
import type { H2Stream } from "./h2/stream";
import type { ServerLogger } from "./logger";
import { isPageRequest, pageResponse, type PageFn } from "./page";

export function serveH2Streams(
  fast: (stream: H2Stream) => boolean,
  handlerFor: (url: string) => UniversalHandler | undefined,
  page: PageFn,
  logger: ServerLogger,
): (stream: H2Stream) => void {
  return (stream) => {
    if (fast(stream)) return;
    const handler = handlerFor(stream.path);
    if (!handler && isPageRequest(stream.method, stream.path)) {
      servePage(stream, page).catch((err: unknown) => {
        logger.error(`GET ${stream.path} failed on HTTP/2: ${String(err)}`);
        stream.reset();
      });
      return;
    }
    if (!handler) {
      stream.respond([[":status", "404"], ["content-type", "text/plain"]]);
      stream.writeNow(Buffer.from("not found\n"));
      stream.end(null);
      return;
    }
    handler(universalRequest(stream))
      .then((res) => writeResponse(stream, res))
      .catch((err: unknown) => {
        // A client that went away mid-call (a watcher disconnecting) is not a server failure.
        if (stream.aborted) return;
        logger.error(`${handler.service.typeName}/${handler.method.name} failed on HTTP/2: ${err instanceof Error ? err.stack : String(err)}`);
        stream.reset();
      });
  };
}

async function servePage(stream: H2Stream, page: PageFn): Promise<void> {
  const { header, url } = requestLine(stream);
  const { status, headers, body } = await pageResponse(page, new Request(url, { method: stream.method, headers: header }));
  stream.respond([[":status", String(status)], ...headers]);
  if (stream.method !== "HEAD") stream.writeNow(body);
  stream.end(null);
}

function requestLine(stream: H2Stream): { header: Headers; url: string } {
  const header = new Headers();
  for (const [name, value] of stream.fields) header.append(name, value);
  const authority = stream.authority || header.get("host") || "localhost";
  return { header, url: `http://${authority}${stream.path}` };
}

function universalRequest(stream: H2Stream): UniversalServerRequest {
  const { header, url } = requestLine(stream);
  return {
    httpVersion: "2.0",
    method: stream.method,
    url,
    header,
    body: requestBody(stream),
    signal: stream.signal,
  };
}

/** The request body as an async iterable; it fails if the stream is reset before its end. */
async function* requestBody(stream: H2Stream): AsyncGenerator<Uint8Array> {
  const queue: (Uint8Array | null)[] = [];
  let wake: (() => void) | null = null;
  stream.onBody((chunk) => {
    queue.push(chunk);
    wake?.();
    wake = null;
  });
  for (;;) {
    while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    const chunk = queue.shift()!;
    if (chunk === null) {
      if (stream.aborted) throw new Error("the client reset the stream");
      return;
    }
    yield chunk;
  }
}

async function writeResponse(stream: H2Stream, res: UniversalServerResponse): Promise<void> {
  const fields: HeaderField[] = [[":status", String(res.status)]];
  res.header?.forEach((value, name) => fields.push([name, value]));
  stream.respond(fields);
  if (res.body) {
    for await (const chunk of res.body) {
      if (stream.aborted) return;
      await stream.write(chunk);
    }
  }
  const trailers: HeaderField[] = [];
  res.trailer?.forEach((value, name) => trailers.push([name, value]));
  stream.end(trailers.length > 0 ? trailers : null);
}
