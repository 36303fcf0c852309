// The page served at GET /: who this node is, for a human with a browser or curl.
import type { NodeIdentity } from "../node/api";
import type { NodeRequest, NodeResponse } from "./node_types";

export type PageFn = (req: Request) => Response | string | Promise<Response | string>;

/** A GET or HEAD of "/" (with any query) or under "/dashboard/": the node page answers it, on either HTTP version. */
export function isPageRequest(method: string | undefined, url: string | undefined): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  return url === "/" || url?.startsWith("/?") === true || url?.startsWith("/dashboard/") === true;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function defaultPage(identity: NodeIdentity): PageFn {
  const id = escapeHtml(identity.id);
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>rbkv ${id}</title></head>
<body>
<h1>rbkv node ${id}</h1>
<table>
<tr><th align="left">client address (gRPC, gRPC-Web, Connect)</th><td>${escapeHtml(identity.grpcAddr)}</td></tr>
<tr><th align="left">raft address</th><td>${escapeHtml(identity.raftAddr)}</td></tr>
<tr><th align="left">version</th><td>${escapeHtml(identity.version)}</td></tr>
</table>
<p>Services: rbkv.v1.KV, rbkv.v1.Cluster, grpc.health.v1.Health.</p>
</body></html>
`;
  return (req) => (new URL(req.url).pathname === "/" ? html : new Response("not found\n", { status: 404, headers: { "content-type": "text/plain" } }));
}

function toFetchRequest(req: NodeRequest): Request {
  const host = req.headers[":authority"] ?? req.headers.host ?? "localhost";
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return new Request(`http://${host}${req.url ?? "/"}`, { method: req.method, headers });
}

/** What the page function answers for `request`, as status, headers and body bytes. */
export async function pageResponse(page: PageFn, request: Request): Promise<{ status: number; headers: [string, string][]; body: Buffer }> {
  const out = await page(request);
  const response =
    typeof out === "string" ? new Response(out, { headers: { "content-type": "text/html; charset=utf-8" } }) : out;
  const body = Buffer.from(await response.arrayBuffer());
  const headers: [string, string][] = [];
  response.headers.forEach((value, name) => headers.push([name, value]));
  headers.push(["content-length", String(body.length)]);
  return { status: response.status, headers, body };
}

export async function servePage(page: PageFn, req: NodeRequest, res: NodeResponse): Promise<void> {
  const { status, headers, body } = await pageResponse(page, toFetchRequest(req));
  res.writeHead(status, Object.fromEntries(headers));
  if (req.method === "HEAD") res.end();
  else res.end(body);
}
