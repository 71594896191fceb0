import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { configSchema } from "../src/config/schema.js";
import { packetFilterAvailable } from "../src/faults/process-faults.js";
import { RESILIENCE_CASES, type ResilienceCase } from "../src/resilience/fault-catalog.js";
import { type ResilienceResults, runResilience } from "../src/resilience/run-resilience.js";
import { downLocal, upLocal } from "../src/stack/local/local-stack.js";

// Faults strike the real stack's parts mid-load: a stack of its own (they would disturb the shared
// one), the ledger on, each outcome read against OpenIM's promise. The slow and disruptive faults
// run with `cutover resilience --all`.

const work = mkdtempSync(path.join(os.tmpdir(), "cutover-resilience-"));
const runDir = path.join(work, "run");
const config = configSchema.parse({ stack: { runDir, local: { legacy: false } } });

const packetFilter = packetFilterAvailable();

const catalog = (fault: string): ResilienceCase => {
  const found = RESILIENCE_CASES.find((c) => c.fault.startsWith(fault));
  if (!found) throw new Error(`no case ${fault}`);
  return found;
};
const cases: ResilienceCase[] = [
  catalog("restart:msgtransfer"),
  ...(packetFilter ? [catalog("partition:kafka")] : []),
];

let results: ResilienceResults;

beforeAll(async () => {
  await upLocal({ config, runDir, progress: () => {} });
  results = await runResilience({
    config,
    runDir,
    outDir: path.join(work, "out"),
    cases,
    rate: 20,
    users: 10,
    durationMs: 6000,
    faultAtMs: 2000,
    // The stack is stopped next: healing (down, then up) is for the faults that follow. That
    // status names a killed part and `up` heals a crashed run dir is test/cli-lifecycle.test.ts's to prove.
    healAfter: false,
  });
}, 400_000);

afterAll(async () => {
  await downLocal(runDir);
});

const outcome = (fault: string) => results.outcomes.find((o) => o.fault.startsWith(fault));

describe("the resilience suite on the local stack", () => {
  test("msgtransfer killed and restarted mid-load: the run finishes, the books balance, and the verdict follows the counts", () => {
    const o = outcome("restart:msgtransfer");
    expect(o?.finished).toBe(true);
    expect(o?.sent).toBeGreaterThan(0);
    // Pairs: one recipient per message, so every send ends delivered or lost, once.
    expect((o?.delivered ?? 0) + (o?.lost ?? 0)).toBe(o?.sent);
    expect(o?.verdict).toBe(o?.ackedLostAtLeast === 0 ? "kept" : "broken");
    expect(o?.faultEvents.map((e) => e.what)).toEqual([
      "SIGKILL openim-msgtransfer",
      expect.stringMatching(/^openim-msgtransfer started again \(pid \d+\)$/),
    ]);
    // Held back while msgtransfer was down and its consumer group rebalanced: later than the fault lasted.
    expect(o?.e2eMaxMs).toBeGreaterThan(2000);
  });

  test.skipIf(!packetFilter)("Kafka cut off for 3 s: the run finishes and nothing acked is lost", () => {
    expect(outcome("partition:kafka")).toMatchObject({
      verdict: "kept",
      finished: true,
      ackedLostAtLeast: 0,
    });
  });

  test("the results and their Markdown say each fault's outcome beside OpenIM's promise", () => {
    const md = readFileSync(path.join(work, "out", "resilience.md"), "utf8");
    expect(md).toMatch(/\| `restart:msgtransfer@2000ms\+2s` \| (kept|broken) \| yes \|/);
    expect(md).toContain("MarkMessage + Commit on batch completion");
    const file = JSON.parse(
      readFileSync(path.join(work, "out", "resilience.json"), "utf8"),
    ) as ResilienceResults;
    expect(file.outcomes).toHaveLength(cases.length);
  });
});
