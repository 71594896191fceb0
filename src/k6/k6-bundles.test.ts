import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import os from "node:os";
import path from "node:path";
import { beforeAll, expect, test } from "vitest";
import { packageRoot } from "../util/package-root.js";

// k6 runs one file and resolves only its own k6* modules: a bundle that imports anything
// else, or leans on a Node global, fails at `k6 run`, where this machine cannot reach.
const SCRIPTS = ["direct-chat", "group-fanout", "login-storm", "connection-ramp"];
const root = packageRoot();
// The same build as `npm run k6:build`, into a folder of this test's own: the script check in
// test/ builds too, and the two may run at once.
const outDir = mkdtempSync(path.join(os.tmpdir(), "cutover-k6-bundles-"));

beforeAll(() => {
  const r = spawnSync("npm", ["run", "--silent", "k6:build", "--", `--outdir=${outDir}`], {
    cwd: root,
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
}, 60_000);

function importedModules(code: string): string[] {
  const specs = new Set<string>();
  for (const m of code.matchAll(/\bimport\s*(?:[\w*{}\s,$]+\s*from\s*)?["']([^"']+)["']/g))
    specs.add(m[1] ?? "");
  for (const m of code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) specs.add(m[1] ?? "");
  return [...specs];
}

test.each(SCRIPTS)("the %s bundle imports only k6 modules and uses no Node built-in", (name) => {
  const code = readFileSync(path.join(outDir, `${name}.js`), "utf8");
  const imports = importedModules(code);
  expect(imports.length).toBeGreaterThan(0);
  for (const spec of imports) expect(spec).toMatch(/^k6(\/[\w/-]+)?$/);
  expect(code).not.toMatch(/\brequire\(/);
  expect(code).not.toMatch(/\b(Buffer|process)\.\w/);
  for (const builtin of builtinModules) expect(code).not.toContain(`"node:${builtin}"`);
  // The scenario is named as cutover's, so `cutover import k6` finds its thresholds by the scenario tag.
  expect(code).toContain(`"${name}": {`);
});
