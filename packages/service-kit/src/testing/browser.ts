import { existsSync } from "node:fs";

/** Debian's Chromium, which the browser tests drive with playwright-core (`npm test` installs it when missing). */
const CHROMIUM = "/usr/bin/chromium";

/** Headless, no sandbox (root in CI), nothing that reaches the network on its own. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * The options for playwright-core's `chromium.launch` in every browser test; throws, naming the
 * package, when the machine has no Chromium (a browser test must fail, never skip, there).
 */
export function chromiumLaunchOptions(): { executablePath: string; args: string[] } {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the browser tests need Debian's Chromium (apt-get install -y chromium).`);
  }
  return { executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] };
}
