// The dashboard in a real browser (headless Chromium) against a real 3-node cluster: it shows the
// members and the leader, a put made on the page is read back through gRPC, a put made through
// gRPC appears live in the watch panel, after the leader is killed the page shows the new one, and
// the watch panel resumes where it left off when the node that served the page restarts.
// Set RBKV_DASHBOARD_SCREENSHOT=file.png to save a screenshot of the page at the end.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { Cluster } from "../../src/gen/rbkv/v1/cluster_pb";
import { KV } from "../../src/gen/rbkv/v1/kv_pb";
import type { LocalNode } from "../../src/devtools/local_cluster";
import { dec, dumpLogs, enc, findLeader, startCluster, withRetry, type TestCluster } from "../integration/support/cluster";
import { chromiumInstalled, launchChromium, missingChromiumMessage, skipBrowserTests } from "./browser";

const UI_TIMEOUT_MS = 20_000;

describe.skipIf(skipBrowserTests)("dashboard in Chromium", () => {
  let tc: TestCluster;
  let browser: Browser;
  let page: Page;
  let leader: LocalNode;
  let served: LocalNode;

  beforeAll(async () => {
    if (!chromiumInstalled) throw new Error(missingChromiumMessage);
    tc = await startCluster(3);
    leader = await findLeader(tc);
    // Load the page from a follower, so it keeps its origin when the leader is killed.
    served = tc.nodes.find((n) => n !== leader)!;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on("pageerror", (err) => console.error(`page error: ${err.message}`));
    await page.goto(served.url);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await tc?.close();
  }, 30_000);

  const memberId = async (node: LocalNode) => (await tc.client(node).unary(Cluster.method.status, {})).memberId;

  test("shows three members and the leader", async () => {
    const leaderId = await memberId(leader);
    await page.locator("#members-body tr.member").nth(2).waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.locator("#members-body tr.member").count()).toBe(3);
    await page.locator(`#members-body tr.leader[data-member-id="${leaderId}"]`).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.waitForFunction((id) => document.getElementById("leader")?.textContent === id, leaderId, { timeout: UI_TIMEOUT_MS });
    await page.locator('#members-body tr[data-health="healthy"]').nth(2).waitFor({ timeout: UI_TIMEOUT_MS });
    const roles = await page.locator("#members-body tr.member").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-role")).sort());
    expect(roles).toEqual(["follower", "follower", "leader"]);
  }, 30_000);

  test("a put made on the page is read back through gRPC; values show as text or hex", async () => {
    await page.fill("#put-key", "dash/from-page");
    await page.fill("#put-value", "hello from the browser");
    await page.click("#put-submit");
    await page.locator('#keys-body tr[data-key="dash/from-page"]').waitFor({ timeout: UI_TIMEOUT_MS });
    const valueCell = page.locator('#keys-body tr[data-key="dash/from-page"] td.value');
    await page.check('input[name="view"][value="hex"]');
    expect(await valueCell.textContent()).toBe(Buffer.from("hello from the browser").toString("hex").replace(/(..)(?!$)/g, "$1 "));
    await page.check('input[name="view"][value="text"]');
    expect(await valueCell.textContent()).toBe("hello from the browser");
    const other = tc.nodes.find((n) => n !== served)!;
    const res = await tc.client(other).unary(KV.method.get, { key: enc("dash/from-page") });
    expect(dec(res.kv?.value)).toBe("hello from the browser");
  }, 30_000);

  test("a put made through gRPC appears live in the watch panel", async () => {
    await page.locator("#watch-status.ok").waitFor({ timeout: UI_TIMEOUT_MS });
    await tc.client(leader).unary(KV.method.put, { key: enc("dash/from-grpc"), value: enc("hello from grpc-js") });
    const row = page.locator('#watch-body tr.event-put[data-key="dash/from-grpc"]');
    await row.waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await row.locator("td.value").textContent()).toBe("hello from grpc-js");
  }, 30_000);

  test("after the leader is killed the page shows the new leader and the old one as unreachable", async () => {
    const oldId = await memberId(leader);
    await leader.kill();
    try {
      const next = await findLeader(tc);
      const newId = await memberId(next);
      expect(newId).not.toBe(oldId);
      await page.waitForFunction((id) => document.getElementById("leader")?.textContent === id, newId, { timeout: UI_TIMEOUT_MS });
      await page.locator(`#members-body tr.leader[data-member-id="${newId}"]`).waitFor({ timeout: UI_TIMEOUT_MS });
      await page.locator(`#members-body tr[data-member-id="${oldId}"][data-health="unreachable"]`).waitFor({ timeout: UI_TIMEOUT_MS });
      // The page still writes through the new leader, and the watch panel sees it.
      await withRetry(tc, (n) => tc.client(n).unary(KV.method.put, { key: enc("dash/after-failover"), value: enc("still here") }));
      await page.locator('#watch-body tr[data-key="dash/after-failover"]').waitFor({ timeout: UI_TIMEOUT_MS });
      const shot = process.env.RBKV_DASHBOARD_SCREENSHOT;
      if (shot) {
        await page.click("#load-keys");
        await page.locator('#keys-body tr[data-key="dash/after-failover"]').waitFor({ timeout: UI_TIMEOUT_MS });
        await page.waitForTimeout(1500); // one more refresh of the cluster panel
        await page.screenshot({ path: shot, fullPage: true });
      }
    } catch (err) {
      dumpLogs(tc);
      throw err;
    }
  }, 60_000);

  test("the watch panel resumes after the serving node restarts, with no event lost or shown twice", async () => {
    leader.start(); // the node killed above comes back, so the cluster keeps a quorum while `served` is down
    await leader.waitReady();
    await served.kill();
    try {
      await withRetry(tc, (n) => tc.client(n).unary(KV.method.put, { key: enc("dash/while-down"), value: enc("missed?") }));
      await page.locator("#watch-status.error").waitFor({ timeout: UI_TIMEOUT_MS });
      served.start();
      await served.waitReady();
      const rows = page.locator('#watch-body tr[data-key="dash/while-down"]');
      await rows.first().waitFor({ timeout: UI_TIMEOUT_MS });
      await tc.client(served).unary(KV.method.put, { key: enc("dash/after-restart"), value: enc("live again") });
      await page.locator('#watch-body tr[data-key="dash/after-restart"]').waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await rows.count()).toBe(1);
      const revisions = await page.locator("#watch-body tr td.num").allTextContents();
      expect(new Set(revisions).size).toBe(revisions.length);
    } catch (err) {
      dumpLogs(tc);
      throw err;
    }
  }, 60_000);
});

if (!chromiumInstalled && process.env.CI) {
  test("Chromium is installed for the dashboard browser test", () => {
    throw new Error(missingChromiumMessage);
  });
}
