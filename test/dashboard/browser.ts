// Headless Chromium from Debian (/usr/bin/chromium) driven by playwright-core. In CI a missing
// Chromium is an error (.ci/run installs it); on a developer machine the browser tests are skipped
// with a message saying how to run them.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_PATH = process.env.RBKV_CHROMIUM ?? "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export const chromiumInstalled = existsSync(CHROMIUM_PATH);
export const missingChromiumMessage = `Chromium is not installed at ${CHROMIUM_PATH}: run \`apt-get install -y chromium\` (.ci/run does this in CI)`;

/** True when the browser tests must be skipped: no Chromium, and not in CI (where that is a failure). */
export const skipBrowserTests = !chromiumInstalled && !process.env.CI;
if (skipBrowserTests) console.warn(`skipping the dashboard browser test: ${missingChromiumMessage}`);

export async function launchChromium(): Promise<Browser> {
  if (!chromiumInstalled) throw new Error(missingChromiumMessage);
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}
