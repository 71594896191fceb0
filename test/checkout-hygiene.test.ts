import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outputLocations } from "../src/run/output-locations.js";
import { packageRoot } from "../src/util/package-root.js";

// The README's two commands run one after the other in one checkout: whatever the main job
// writes there must not make the test command's checkers fail, nor show up as a change in git.
describe("a checkout after cutover wrote its outputs", () => {
  const root = packageRoot();
  let copy = "";

  beforeAll(() => {
    copy = mkdtempSync(path.join(os.tmpdir(), "cutover-checkout-"));
    // The files git would commit (tracked and new, not ignored), as a fresh clone has them.
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: root })
      .toString()
      .split("\0")
      .filter(Boolean);
    for (const file of files) {
      mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
      cpSync(path.join(root, file), path.join(copy, file));
    }
    execFileSync("git", ["init", "-q"], { cwd: copy });
    execFileSync("git", ["add", "-A"], { cwd: copy });

    // Outputs written the way cutover writes them: pretty JSON (not Biome's format), logs, scripts.
    const badlyFormatted = '{"scenario":   "direct-chat","e2e":[1,2,3] }\n';
    for (const dir of Object.values(outputLocations)) {
      mkdirSync(path.join(copy, dir, "2026-12-07T10-00-00-000Z-run"), { recursive: true });
      writeFileSync(path.join(copy, dir, "2026-12-07T10-00-00-000Z-run", "results.json"), badlyFormatted);
      writeFileSync(path.join(copy, dir, "bundle.js"), "export default function(){return  1}\n");
      writeFileSync(path.join(copy, dir, "stack.log"), "ERROR something\n");
    }
  });

  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it("git sees no change: every default output location is ignored", () => {
    const untracked = execFileSync("git", ["ls-files", "--others", "--exclude-standard"], { cwd: copy });
    expect(untracked.toString()).toBe("");
  });

  it("the linter passes: it checks only what the repository tracks", () => {
    const biome = path.join(root, "node_modules", ".bin", "biome");
    const run = spawnSync(biome, ["check", "."], { cwd: copy, encoding: "utf8" });
    expect(run.stdout + run.stderr).not.toMatch(/results\.json|bundle\.js/);
    expect(run.status).toBe(0);
  });
});
