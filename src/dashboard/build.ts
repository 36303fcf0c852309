// Builds the dashboard's static assets: one JS bundle (bun build of web/main.ts) plus the page and
// its stylesheet. `bun run src/dashboard/build.ts` writes them to src/dashboard/dist/, which is
// committed so a node serves the dashboard with no build step; a test checks dist is up to date.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { ASSET_NAMES, DIST_DIR, type DashboardAssets } from "./assets";

export const WEB_DIR = join(import.meta.dir, "web");

export async function buildDashboard(): Promise<DashboardAssets> {
  const result = await Bun.build({
    entrypoints: [join(WEB_DIR, "main.ts")],
    target: "browser",
    format: "esm",
    minify: true,
    sourcemap: "none",
  });
  if (!result.success) throw new AggregateError(result.logs, "dashboard: bun build failed");
  const [bundle, ...extra] = result.outputs;
  if (!bundle || extra.length > 0) throw new Error(`dashboard: expected one bundle, got ${result.outputs.length} outputs`);
  return {
    "index.html": new Uint8Array(await readFile(join(WEB_DIR, "index.html"))),
    "dashboard.js": new Uint8Array(await bundle.arrayBuffer()),
    "dashboard.css": new Uint8Array(await readFile(join(WEB_DIR, "style.css"))),
  };
}

export async function writeDashboard(dir = DIST_DIR): Promise<void> {
  const assets = await buildDashboard();
  await mkdir(dir, { recursive: true });
  for (const name of ASSET_NAMES) await writeFile(join(dir, name), assets[name]);
}

if (import.meta.main) {
  const started = performance.now();
  await writeDashboard();
  console.log(`dashboard built into ${DIST_DIR} in ${(performance.now() - started).toFixed(0)} ms`);
}
