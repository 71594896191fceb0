import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { CutoverError } from "../util/errors.js";
import { loadConfig, parseConfig } from "./load.js";

function dirWith(name: string, text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "cutover-config-"));
  writeFileSync(path.join(dir, name), text);
  return dir;
}

describe("config", () => {
  test("no config at all gives a complete local-stack config", () => {
    const config = parseConfig({});
    expect(config.stack.kind).toBe("local");
    expect(config.stack.runDir).toBe(".cutover");
    expect(config.stack.local.openimVersion).toBe("3.8.3");
    expect(config.stack.local.mongo.persist).toBe(false);
    expect(config.openim.adminUserID).toBe("imAdmin");
  });

  test("a bad field is refused with one line naming it", () => {
    const attempt = () => parseConfig({ stack: { local: { portBase: 80 } } }, "cutover.config.yaml");
    expect(attempt).toThrow(CutoverError);
    expect(attempt).toThrow(/^invalid cutover\.config\.yaml: stack\.local\.portBase: /);
    try {
      attempt();
    } catch (err) {
      expect((err as CutoverError).exitCode).toBe(2);
      expect((err as CutoverError).message).not.toContain("\n");
    }
  });

  test("an unknown key is refused rather than silently ignored", () => {
    expect(() => parseConfig({ stack: { locl: {} } })).toThrow(/stack: .*locl/);
  });

  test("an illegal admin user ID is refused (OpenIM accepts letters, digits, underscore)", () => {
    expect(() => parseConfig({ openim: { adminUserID: "im-admin" } })).toThrow(/openim\.adminUserID/);
  });

  test("a YAML file in the working directory is found and validated", async () => {
    const dir = dirWith(
      "cutover.config.yaml",
      "stack:\n  runDir: /tmp/elsewhere\n  local:\n    mongo: { persist: true }\n",
    );
    const { config, file } = await loadConfig({ cwd: dir });
    expect(file).toBe(path.join(dir, "cutover.config.yaml"));
    expect(config.stack.runDir).toBe("/tmp/elsewhere");
    expect(config.stack.local.mongo.persist).toBe(true);
  });

  test("a TypeScript config with defineConfig is loaded", async () => {
    const define = path.resolve("src/config/define.ts");
    const dir = dirWith(
      "cutover.config.ts",
      `import { defineConfig } from ${JSON.stringify(define)};\nexport default defineConfig({ openim: { platformID: 5 } });\n`,
    );
    const { config } = await loadConfig({ cwd: dir });
    expect(config.openim.platformID).toBe(5);
  });

  test("a named config file that does not exist is a usage error", async () => {
    await expect(loadConfig({ file: "/nonexistent/cutover.yaml" })).rejects.toMatchObject({ exitCode: 2 });
  });

  test("a config file that is not valid YAML says so in one line", async () => {
    const dir = dirWith("cutover.config.yaml", "stack: [unclosed\n");
    await expect(loadConfig({ cwd: dir })).rejects.toThrow(/^cannot read config cutover\.config\.yaml: /);
  });
});
