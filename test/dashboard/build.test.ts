// The committed dashboard assets (src/dashboard/dist) are what `bun run src/dashboard/build.ts`
// produces from the sources, and the node serves them at the right paths.
import { describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ASSET_NAMES, DIST_DIR } from "../../src/dashboard/assets";
import { buildDashboard } from "../../src/dashboard/build";
import { assetForPath, dashboardPage } from "../../src/dashboard/page";

describe("dashboard assets", () => {
  test("the committed dist/ matches a fresh build (run `bun run src/dashboard/build.ts` after changing src/dashboard/web)", async () => {
    const fresh = await buildDashboard();
    for (const name of ASSET_NAMES) {
      const committed = new Uint8Array(await readFile(join(DIST_DIR, name)));
      expect({ name, same: Buffer.compare(committed, fresh[name]) === 0 }).toEqual({ name, same: true });
    }
  });

  test("the page loads nothing from outside the node", async () => {
    const html = new TextDecoder().decode(await readFile(join(DIST_DIR, "index.html")));
    const css = new TextDecoder().decode(await readFile(join(DIST_DIR, "dashboard.css")));
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(css).not.toMatch(/url\(|@import/);
  });

  test("paths: / and /dashboard/ are the page, the bundle and stylesheet live under /dashboard/, anything else is 404", async () => {
    expect(assetForPath("/")).toBe("index.html");
    expect(assetForPath("/dashboard/")).toBe("index.html");
    expect(assetForPath("/dashboard/dashboard.js")).toBe("dashboard.js");
    expect(assetForPath("/dashboard/dashboard.css")).toBe("dashboard.css");
    expect(assetForPath("/dashboard/../package.json")).toBeNull();
    expect(assetForPath("/dashboard/nope.js")).toBeNull();

    const page = dashboardPage();
    const js = await page(new Request("http://node/dashboard/dashboard.js"));
    if (typeof js === "string") throw new Error("expected a Response");
    expect(js.headers.get("content-type")).toStartWith("text/javascript");
    expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    const missing = await page(new Request("http://node/dashboard/secret"));
    expect(typeof missing === "string" ? 200 : missing.status).toBe(404);
  });
});
