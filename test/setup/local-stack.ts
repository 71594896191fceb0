import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { progressPrinter } from "../../src/cli/progress-printer.js";
import { parseConfig } from "../../src/config/load.js";
import { downLocal, upLocal } from "../../src/stack/local/local-stack.js";

import "../../conformance/support/context.js";
import { defaultProfile } from "../../src/conformance-runner/profile.js";

/**
 * Starts the real local stack once per test run (OpenIM built on first use, then cached),
 * in a fresh run dir on free ports; CUTOVER_TEST_RUN_DIR reuses a stack already up there.
 * Two message gateways, as production runs several: nginx spreads the suites' sockets over
 * both, and the cases about delivery between instances run (conformance/messaging.test.ts).
 */
const TEST_STACK_CONFIG = { stack: { local: { msgGateways: 2 } } };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const reuse = process.env.CUTOVER_TEST_RUN_DIR;
  const runDir = reuse ?? mkdtempSync(path.join(os.tmpdir(), "cutover-test-"));
  const result = await upLocal({
    config: parseConfig(TEST_STACK_CONFIG),
    runDir,
    progress: progressPrinter(),
  });
  project.provide("endpoints", result.endpoints);
  project.provide("runDir", runDir);
  project.provide("profile", defaultProfile());
  return async () => {
    if (result.kind === "started") await downLocal(runDir);
  };
}
