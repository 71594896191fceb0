import { existsSync } from "node:fs";

/** Debian's chromium (`cutover doctor --fix` installs it); CUTOVER_CHROMIUM points elsewhere. */
export const CHROMIUM_PATH = process.env.CUTOVER_CHROMIUM ?? "/usr/bin/chromium";

/** No sandbox (root in CI), no GPU, and nothing that reaches past 127.0.0.1 on its own. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}
