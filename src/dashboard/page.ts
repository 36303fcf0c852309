// Serves the built dashboard (dist/) as the node's page: index.html at GET /, the bundle and the
// stylesheet under /dashboard/. The files are read once, on the first request, and kept in memory.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { PageFn } from "../server";
import { ASSET_NAMES, CONTENT_TYPES, DIST_DIR, type AssetName, type DashboardAssets } from "./assets";

/** The asset a path names, or null. */
export function assetForPath(pathname: string): AssetName | null {
  if (pathname === "/" || pathname === "/dashboard" || pathname === "/dashboard/") return "index.html";
  const name = pathname.startsWith("/dashboard/") ? pathname.slice("/dashboard/".length) : "";
  return name !== "index.html" && (ASSET_NAMES as readonly string[]).includes(name) ? (name as AssetName) : null;
}

async function loadAssets(dir: string): Promise<DashboardAssets> {
  const read = async (name: AssetName) => new Uint8Array(await readFile(join(dir, name)));
  return { "index.html": await read("index.html"), "dashboard.js": await read("dashboard.js"), "dashboard.css": await read("dashboard.css") };
}

/** The page function for startServer. `dir` holds the built assets (default: the committed dist/). */
export function dashboardPage(dir = DIST_DIR): PageFn {
  let assets: Promise<DashboardAssets> | null = null;
  return async (req) => {
    const name = assetForPath(new URL(req.url).pathname);
    if (name === null) return new Response("not found\n", { status: 404, headers: { "content-type": "text/plain" } });
    assets ??= loadAssets(dir).catch((err: unknown) => {
      assets = null;
      throw new Error(`dashboard assets missing in ${dir} (run: bun run src/dashboard/build.ts): ${String(err)}`);
    });
    const body = (await assets)[name];
    return new Response(body, { headers: { "content-type": CONTENT_TYPES[name], "cache-control": "no-cache" } });
  };
}
