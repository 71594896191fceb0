import { stripVTControlCharacters } from "node:util";
import { describe, expect, test } from "vitest";
import { emptyCounters } from "../metrics/counters.js";
import type { IntervalSummary } from "./aggregate.js";
import { bytes, clock, progressLine } from "./progress-line.js";

function sink(isTTY: boolean, columns?: number) {
  const out: string[] = [];
  const stream = { isTTY, columns, write: (text: string) => out.push(text) } as unknown as NodeJS.WriteStream;
  return { stream, out };
}

const interval = (t: number): IntervalSummary => ({
  t,
  sent: 50,
  acked: 50,
  delivered: 70,
  errors: 0,
  dropped: 0,
  rate: 50,
  ackP50: 4,
  ackP99: 9,
  e2eP50: 60,
  e2eP99: 120,
  inFlight: 1,
  connected: 1000,
});

describe("a long run's progress where nobody watches a terminal", () => {
  test("a plain line every 30 s with elapsed, what is left, totals so far and the latest p99", () => {
    const { stream, out } = sink(false);
    const p = progressLine(stream, { totalSec: 3600 });
    for (let t = 1; t <= 65; t++) p.interval(interval(t));
    expect(out).toHaveLength(2);
    expect(out[0]).toBe(
      "30s (59m30s left) · 50 msg/s · sent 1500 · delivered 2100 · in flight 1 · conns 1000 · ack p50 4.0 p99 9.0 ms · e2e p50 60.0 p99 120.0 ms · errors 0\n",
    );
    expect(out[1]).toMatch(/^1m00s \(59m00s left\) · .* sent 3000 /);
  });

  test("on a terminal the line rewrites itself every interval", () => {
    const { stream, out } = sink(true);
    const p = progressLine(stream);
    for (let t = 1; t <= 3; t++) p.interval(interval(t));
    p.end();
    expect(out).toHaveLength(4);
    expect(out[2]?.startsWith("\r\u001b[2K")).toBe(true);
    // Colour or not (picocolors follows CI and NO_COLOR), the text is the same.
    expect(stripVTControlCharacters(out[2] ?? "")).toContain(" 3s · 50 msg/s · ");
    expect(out[3]).toBe("\n");
  });

  test("a soak's line says what is still owed, what was lost once the books close, and the SUT's memory", () => {
    const { stream, out } = sink(false);
    const p = progressLine(stream, { totalSec: 60, everySec: 1 });
    const live = (expectedDeliveries: number, delivered: number, lost: number) => ({
      counters: { ...emptyCounters(), expectedDeliveries, delivered, lost },
      delta: emptyCounters(),
      histograms: new Map(),
    });
    p.sut({ t: 1, processes: [], totalCpuPercent: 80, totalRssBytes: 1.5 * 2 ** 30 });
    p.interval({ ...interval(1), live: live(50, 46, 0) });
    p.interval({ ...interval(2), live: live(100, 97, 2) });
    expect(out[0]).toContain(" · delivered 70 · outstanding 4 · in flight 1 · ");
    expect(out[0]).toMatch(/ · errors 0 · SUT 1\.50 GiB\n$/);
    expect(stripVTControlCharacters(out[1] ?? "")).toContain(" · delivered 140 · outstanding 1 · lost 2 · ");
  });

  test("on a narrow terminal the line gives up its details first, never the clock, rate or e2e p99", () => {
    const lines = [100, 80].map((columns) => {
      const { stream, out } = sink(true, columns);
      const p = progressLine(stream, { totalSec: 1800 });
      p.sut({ t: 1, processes: [], totalCpuPercent: 80, totalRssBytes: 2 ** 31 });
      const live = { counters: emptyCounters(), delta: emptyCounters(), histograms: new Map() };
      p.interval({ ...interval(61), live });
      return stripVTControlCharacters(out[0] ?? "").replace("\r", "");
    });
    expect(lines).toEqual([
      "▸ 1m01s (28m59s left) · 50 msg/s · outstanding 0 · e2e p50 60.0 p99 120.0 ms · SUT 2.00 GiB",
      "▸ 1m01s (28m59s left) · 50 msg/s · e2e p50 60.0 p99 120.0 ms · SUT 2.00 GiB",
    ]);
  });

  test("bytes() reads memory as people read it", () => {
    expect([bytes(851_443_712), bytes(3 * 2 ** 30)]).toEqual(["812 MiB", "3.00 GiB"]);
  });

  test("clock() reads as people read a long run", () => {
    expect([clock(9), clock(75), clock(3725)]).toEqual(["9s", "1m15s", "1h02m05s"]);
  });
});
