import { spawn } from "node:child_process";
import { describe, expect, inject, test } from "vitest";
import { CONTRACT_CHECKS, runDriverContract } from "../src/drivers/driver-contract.js";
import { createDriver } from "../src/load/driver-factory.js";
import { packageRoot } from "../src/util/package-root.js";
import { cliEnv } from "./support/cli.js";

// The bundled drivers keep the contract a team's own driver is held to, on the real local stack.
const endpoints = inject("endpoints");
const runDir = inject("runDir");
const bundled = ["openim", "openim-direct", ...(endpoints.legacy ? ["legacy"] : [])];

describe("the bundled drivers keep the driver contract", { timeout: 60_000 }, () => {
  test.each(bundled)("%s passes every check", async (name) => {
    const checks = await runDriverContract(() => createDriver({ name }, endpoints));
    expect(checks.map((c) => c.check)).toEqual(CONTRACT_CHECKS);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    // openim-direct gets tokens from the admin API: its accounts have no password to get wrong.
    const skipped = checks.filter((c) => c.skipped).map((c) => c.check);
    expect(skipped).toEqual(name === "openim-direct" ? ["wrong password"] : []);
  });

  test("cutover check-driver openim on the stack in the run dir: a line per check, exit 0", async () => {
    const run = await new Promise<{ code: number; out: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "src/cli/main.ts", "check-driver", "openim", "--run-dir", runDir],
        { cwd: packageRoot(), env: cliEnv() },
      );
      let out = "";
      for (const stream of [child.stdout, child.stderr])
        stream.on("data", (d: Buffer) => {
          out += d.toString();
        });
      child.on("close", (code) => resolve({ code: code ?? -1, out }));
    });
    for (const name of CONTRACT_CHECKS) expect(run.out).toMatch(new RegExp(`^✓ ${name}\\s+— `, "m"));
    expect(run.out).toMatch(/openim keeps the driver contract: 11\/11 checks pass/);
    expect(run.code).toBe(0);
  });
});
