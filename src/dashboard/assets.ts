// The dashboard's built files: their names, where they are kept, and how they are served.
import { join } from "node:path";

/** The committed build output that nodes serve. */
export const DIST_DIR = join(import.meta.dir, "dist");

/** index.html is served at GET /, the others under /dashboard/. */
export const ASSET_NAMES = ["index.html", "dashboard.js", "dashboard.css"] as const;
export type AssetName = (typeof ASSET_NAMES)[number];
export type DashboardAssets = Record<AssetName, Uint8Array<ArrayBuffer>>;

export const CONTENT_TYPES: Record<AssetName, string> = {
  "index.html": "text/html; charset=utf-8",
  "dashboard.js": "text/javascript; charset=utf-8",
  "dashboard.css": "text/css; charset=utf-8",
};
