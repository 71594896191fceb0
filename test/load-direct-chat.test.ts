import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, inject, test } from "vitest";
import { LoadSession } from "../src/load/engine.js";
import { normalizeModel } from "../src/load/model.js";
import { loadScenario } from "../src/load/scenario.js";
import { decodeHistogram } from "../src/metrics/histogram.js";
import { parseLoadResults } from "../src/report/results-schema.js";
import { cliEnv, runCutover } from "./support/cli.js";

// Short versions of the scenarios, on the shared stack: this machine's 2 cores are shared with
// the stack itself and other work, so the rates are modest and latency bounds loose; the books are exact.
const endpoints = inject("endpoints");
const runDir = inject("runDir");

test("direct-chat through the gateway on two worker threads: every message delivered once, books balance", async () => {
  const scenario = await loadScenario("direct-chat");
  const { setup, phase: r } = await LoadSession.once(
    {
      scenario,
      endpoints,
      driver: { name: "openim" },
      workers: 2,
      users: 10,
      topology: { kind: "pairs" },
      connectAtSetup: true,
      maxInFlightPerUser: 16,
      intervalMs: 500,
    },
    {
      model: normalizeModel({ kind: "constant-arrival-rate", rate: 30, duration: "3s" }),
      drainMs: 15_000,
    },
  );
  expect(setup.counters.connects).toBe(10);
  const c = r.counters;
  expect(c.scheduled).toBe(90);
  expect(c.sent).toBe(90);
  expect(c.acked).toBe(c.sent);
  expect(c.expectedDeliveries).toBe(c.sent); // one recipient per direct message
  expect(c.lost).toBe(0);
  expect(c.delivered).toBe(c.sent);
  expect(c.duplicated).toBe(0);
  expect(c.outOfOrder).toBe(0);
  expect(c.unexpected).toBe(0);
  expect(r.histograms.get("e2e")?.totalCount).toBe(c.delivered);
  expect(r.histograms.get("ack")?.totalCount).toBe(c.acked);
}, 90_000);

test("group-fanout: every member but the sender receives each message once", async () => {
  const scenario = await loadScenario("group-fanout");
  const { phase: r } = await LoadSession.once(
    {
      scenario,
      endpoints,
      driver: { name: "openim-direct" },
      workers: 1,
      users: 8,
      topology: { kind: "groups", size: 8 },
      connectAtSetup: true,
      maxInFlightPerUser: 16,
    },
    {
      model: normalizeModel({ kind: "constant-arrival-rate", rate: 5, duration: "2s" }),
      drainMs: 15_000,
    },
  );
  const c = r.counters;
  expect(c.sent).toBe(10);
  expect(c.expectedDeliveries).toBe(70);
  expect(c.lost).toBe(0);
  expect(c.delivered).toBe(70);
  expect(c.duplicated).toBe(0);
  expect(r.histograms.get("e2e_last")?.totalCount).toBe(10);
}, 90_000);

test("`cutover load` writes a valid results.json and an interval log, and a crossed threshold exits 99", () => {
  const out = mkdtempSync(path.join(os.tmpdir(), "cutover-load-"));
  const env = cliEnv();
  const res = runCutover(
    [
      "load",
      "direct-chat",
      "--run-dir",
      runDir,
      "--driver",
      "openim-direct",
      "--users",
      "6",
      "--rate",
      "20",
      "--duration",
      "2s",
      "--drain",
      "10s",
      "--workers",
      "1",
      "--threshold",
      "ack.p50<0.001",
      "--out",
      out,
    ],
    { timeoutMs: 90_000, env },
  );
  expect(res.code, res.stderr).toBe(99);
  const results = parseLoadResults(JSON.parse(readFileSync(path.join(out, "results.json"), "utf8")));
  expect(results.status).toBe("failed");
  expect(results.counters?.sent).toBe(40);
  expect(results.accounting).toMatchObject({ expected: 40, delivered: 40, lost: 0, balanced: true });
  for (const name of ["ack", "e2e"]) {
    const m = results.metrics?.[name];
    expect(m?.count).toBeGreaterThan(0);
    expect(decodeHistogram(m!.histogram.data).totalCount).toBe(m!.count);
  }
  const crossed = results.thresholds?.find((t) => t.expression.startsWith("ack.p50"));
  expect(crossed).toMatchObject({ ok: false });
  expect(results.thresholds?.find((t) => t.metric === "lost")).toMatchObject({ ok: true, actual: 0 });
  expect(results.environment.stack).toBe("local");
  expect(results.resources?.samples.length).toBeGreaterThan(0);
  const hlog = readFileSync(path.join(out, "intervals.hlog"), "utf8");
  expect(hlog).toMatch(/^Tag=ack,\d+\.\d+,\d+\.\d+,\d+\.\d+,HIST/m);
  expect(hlog).toMatch(/^Tag=e2e,/m);
  expect(res.stdout).toMatch(/✗ ack\.p50 < 0\.001ms/);
}, 120_000);
