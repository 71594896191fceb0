import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { emptyCounters } from "../metrics/counters.js";
import { HdrIntervalLog } from "../metrics/hdr-log.js";
import { newHistogram, recordUs } from "../metrics/histogram.js";
import { renderMarkdown } from "../report/markdown.js";
import { loadView } from "../report/view-model.js";
import { rebuildFromLog } from "./partial-results.js";

/** What a run killed after `n` one-second intervals leaves: 10 sends a second, one delivery each, the last one in flight. */
function killedRunLog(n: number, o: { withResources?: boolean } = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "partial-"));
  const file = path.join(dir, "intervals.hlog");
  const log = new HdrIntervalLog(file, Date.parse("2026-01-01T00:00:00Z"), [
    "cutover load soak via openim; tags are metrics",
  ]);
  const phaseOffset = 4; // setup took 4 s
  for (let i = 0; i < n; i++) {
    const ack = newHistogram();
    const e2e = newHistogram();
    for (let k = 0; k < 10; k++) recordUs(ack, 5000 + k * 100);
    for (let k = 0; k < (i === n - 1 ? 9 : 10); k++) recordUs(e2e, 20_000 + k * 1000);
    log.write("ack", ack, phaseOffset + i, phaseOffset + i + 1);
    log.write("e2e", e2e, phaseOffset + i, phaseOffset + i + 1);
    const sent = (i + 1) * 10;
    log.counters(phaseOffset, phaseOffset + i + 1, {
      ...emptyCounters(),
      scheduled: sent,
      iterations: sent,
      sent,
      acked: sent,
      expectedDeliveries: sent,
      delivered: sent - 1 * (i === n - 1 ? 1 : 0),
      inFlight: 1,
      connected: 20,
    });
    if (o.withResources)
      log.resources({
        t: phaseOffset + i + 1,
        processes: [{ name: "mongo", cpuPercent: 5, rssBytes: 100e6 + i * 1e6, alive: true }],
        totalCpuPercent: 5,
        totalRssBytes: 100e6 + i * 1e6,
        generator: { cpuPercent: 10, rssBytes: 80e6 },
      });
  }
  log.close();
  // The kill landed in the middle of the next interval's line.
  appendFileSync(file, "Tag=ack,14.000,1.000,5.900,HISTFAAAAC");
  return file;
}

describe("a results file rebuilt from a killed run's interval log", () => {
  test("holds every interval the log holds, the books as far as they went, and says what is missing", () => {
    const r = rebuildFromLog(killedRunLog(10));
    expect(r.status).toBe("interrupted");
    expect(r.scenario.name).toBe("soak"); // from the log's header: there is no results.json beside it
    expect(r.intervals).toHaveLength(10);
    expect(r.intervals?.[0]?.t).toBe(1); // seconds since the measured phase started, as in a finished run
    expect(r.metrics?.ack?.count).toBe(100);
    expect(r.metrics?.e2e?.count).toBe(99);
    expect(r.counters).toMatchObject({ sent: 100, acked: 100, delivered: 99, lost: 0 });
    expect(r.run).toMatchObject({ elapsedMs: 10_000, achievedRate: 10, interrupted: true });
    expect(r.partial?.unreadableLines).toBe(1);
    expect(r.partial?.missing).toEqual(
      expect.arrayContaining([
        "the run's parameters (no readable results.json beside the log)",
        expect.stringMatching(/^the ledger's final counts: 1 deliveries were outstanding/),
        "threshold verdicts (a partial run is not judged)",
      ]),
    );
    const md = renderMarkdown(loadView(r));
    expect(md).toContain("partial (interrupted; rebuilt from the interval log)");
    expect(md).toContain("1 outstanding when the run was killed");
  });

  test("the resource samples in the log come back, and the processes are judged as far as they can be", () => {
    const r = rebuildFromLog(killedRunLog(10, { withResources: true }));
    expect(r.resources?.samples).toHaveLength(10);
    expect(r.resources?.summary.map((s) => s.name)).toEqual(["mongo"]);
    expect(r.drift?.map((d) => [d.process, d.reason])).toEqual([
      ["mongo", "too few intervals"],
      ["cutover (generator)", "too few intervals"],
      ["cutover (generator)", "too few intervals"],
    ]);
  });

  test("uses the results.json written at the start for what was asked", () => {
    const file = killedRunLog(3);
    writeFileSync(path.join(path.dirname(file), "results.json"), "{ not json");
    expect(rebuildFromLog(file).partial?.missing[0]).toMatch(/no readable results.json/);
  });

  test("a file that is not an interval log is refused in one line", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "partial-"));
    const file = path.join(dir, "notes.txt");
    writeFileSync(file, "hello\n");
    expect(() => rebuildFromLog(file)).toThrow(/is not an HdrHistogram interval log written by cutover load/);
  });
});
