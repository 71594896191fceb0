import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { CutoverError } from "../util/errors.js";
import { writeJsonAtomic } from "./results-file.js";

// A results folder on a disk that fills up mid-run: a 64 KiB tmpfs (root only; skipped elsewhere).
const mountPoint = mkdtempSync(path.join(os.tmpdir(), "cutover-full-disk-"));
const mounted = (() => {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

afterAll(() => {
  if (mounted) execFileSync("umount", [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

describe.skipIf(!mounted)("results on a full disk (needs root to mount a small tmpfs)", () => {
  test("the last complete results stay readable, no half-written file is left, and the error says so once", () => {
    const dir = path.join(mountPoint, "run");
    mkdirSync(dir);
    const file = path.join(dir, "results.json");
    writeJsonAtomic(file, { status: "running", sent: 0 });
    let error: unknown;
    try {
      writeJsonAtomic(file, { status: "passed", filler: "x".repeat(200_000) });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CutoverError);
    expect((error as Error).message).toMatch(
      /^cannot write .*results\.json: the disk is full — the last complete copy there is kept/,
    );
    expect((error as Error).message).toContain("cutover report --from-log");
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ status: "running", sent: 0 });
    expect(existsSync(`${file}.tmp`)).toBe(false);
  });
});
