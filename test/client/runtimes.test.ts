// The smart client outside Bun: bundled for Node (run with the machine's `node`) and for the
// browser (run in headless Chromium on a node's page, talking gRPC-Web).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalCluster } from "../../src/devtools/local_cluster";
import { launchChromium, skipBrowserTests } from "../dashboard/browser";

let dir: string;
let cluster: LocalCluster;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rbkv-runtimes-"));
  cluster = await LocalCluster.create({ size: 1, baseDir: join(dir, "cluster"), flags: ["--quiet"] });
  await cluster.bootstrap();
}, 60_000);

afterAll(async () => {
  await cluster?.stopAll();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

async function bundle(entry: string, target: "node" | "browser"): Promise<string> {
  const out = await Bun.build({ entrypoints: [join(import.meta.dir, "runtimes", entry)], target, minify: false });
  if (!out.success) throw new Error(`bundling ${entry} failed: ${out.logs.join("\n")}`);
  return out.outputs[0].text();
}

test("runs in Node (bundled), writing and reading through a real node", async () => {
  const file = join(dir, "node_client.mjs");
  await Bun.write(file, await bundle("node_entry.ts", "node"));
  const r = spawnSync("node", [file, cluster.nodes[0].grpcAddr], { encoding: "utf8", timeout: 30_000 });
  expect(r.stderr).toBe("");
  expect(JSON.parse(r.stdout.trim())).toEqual({ value: "hello from node", version: "1" });
}, 60_000);

test.skipIf(skipBrowserTests)("runs in the browser over gRPC-Web: put, get, compare-and-swap, watch", async () => {
  const script = await bundle("browser_entry.ts", "browser");
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(cluster.nodes[0].url);
    await page.addScriptTag({ content: script });
    const result = await page.evaluate((endpoint) => (window as unknown as { rbkvRoundTrip(e: string): Promise<unknown> }).rbkvRoundTrip(endpoint), cluster.nodes[0].url);
    expect(result).toEqual({ value: "hello from the browser", cas: true, watched: "put:hello from the browser;put:swapped;" });
  } finally {
    await browser.close();
  }
}, 60_000);
