import { stripVTControlCharacters } from "node:util";
import { describe, expect, inject, test, vi } from "vitest";
import { DEFAULT_FUZZ_SEED, fuzzCommand, parseFuzzArgs } from "../src/cli/commands/fuzz.js";
import { FUZZ_FAMILIES } from "../src/fuzz/fuzz-cases.js";
import { fuzzService } from "../src/fuzz/fuzz-run.js";
import { fuzzTargetFromRunDir } from "../src/fuzz/fuzz-target.js";
import { UsageError } from "../src/util/errors.js";

// The reference gateway and the legacy chat service of the shared stack under CI's fixed seed
// (`cutover fuzz <target> --seed N` reproduces another): never a 5xx, never a crash, never a
// secret or token in a response or in the service's log, never a handshake used twice.
const runDir = inject("runDir");
const REQUESTS = 500;

// The two services are fuzzed at once: each case waits for its answer, so neither is loaded beyond one request.
describe.concurrent.each(["gateway", "legacy"] as const)("fuzzing the %s", (target) => {
  test(`${REQUESTS} hostile requests: no 5xx, no crash, no leak, no accepted replay`, async () => {
    const outcome = await fuzzService({
      target,
      seed: DEFAULT_FUZZ_SEED,
      requests: REQUESTS,
      ...fuzzTargetFromRunDir(target, runDir),
    });
    expect(outcome.tried).toBe(REQUESTS);
    expect(Object.keys(outcome.byFamily).sort()).toEqual([...FUZZ_FAMILIES].sort());
    expect(outcome.findings).toEqual([]);
    expect({
      fiveXX: outcome.fiveXX,
      crashes: outcome.crashes,
      leaks: outcome.leaks,
      hangs: outcome.hangs,
      replays: outcome.replays,
    }).toEqual({ fiveXX: 0, crashes: 0, leaks: 0, hangs: 0, replays: 0 });
    // Hostile input is refused as the caller's fault, not ignored: most answers are 4xx.
    const refused = Object.entries(outcome.statuses)
      .filter(([s]) => s.startsWith("4"))
      .reduce((n, [, k]) => n + k, 0);
    expect(refused).toBeGreaterThan(REQUESTS * 0.7);
  }, 90_000);
});

test("cutover fuzz prints its counts and the seed, and exits 0 when nothing was found", async () => {
  // In this process (the command as main.ts registers it), not a child: a CLI start costs ~10 s here.
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await fuzzCommand()
      .exitOverride()
      .parseAsync(["gateway", "--run-dir", runDir, "--requests", "16", "--seed", "7"], { from: "user" });
  } finally {
    spy.mockRestore();
  }
  // Colour or not (picocolors follows CI and NO_COLOR, read when this process started), the text is the same.
  expect(stripVTControlCharacters(written.join(""))).toMatch(
    /^fuzz gateway \(seed 7\): 16 cases tried · 5xx 0 · crashes 0 · hangs 0 · leaks 0/,
  );
}, 60_000);

test("a bad target, --seed or --requests is a usage error (one line, exit 2) that names it", () => {
  expect(() => parseFuzzArgs("nosuch", {})).toThrow("the target is gateway or legacy");
  for (const [opts, flag] of [
    [{ seed: "x" }, "--seed"],
    [{ seed: "-1" }, "--seed"],
    [{ requests: "0" }, "--requests"],
    [{ requests: "1.5" }, "--requests"],
  ] as const) {
    expect(() => parseFuzzArgs("gateway", opts)).toThrow(UsageError);
    expect(() => parseFuzzArgs("gateway", opts)).toThrow(flag);
  }
  expect(parseFuzzArgs("legacy", {})).toEqual({ target: "legacy", seed: DEFAULT_FUZZ_SEED, requests: 500 });
});
