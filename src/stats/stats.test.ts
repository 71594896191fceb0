import { describe, expect, test } from "vitest";
import { evaluateGate, parseGateRule } from "./gate.js";
import { mannWhitney, smallestAchievableP } from "./mann-whitney.js";
import { normal, seededRandom } from "./random.js";
import { quantile } from "./summary.js";
import { compareMetric, sensitivity } from "./verdict.js";

const random = seededRandom(7);
const noisy = (n: number, center: number, spread = 0.03) =>
  Array.from({ length: n }, () => center * (1 + spread * normal(random)));

describe("Mann-Whitney U", () => {
  test("matches a textbook exact p-value (n=5 each, complete separation → p = 2/252)", () => {
    expect(mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).p).toBeCloseTo(2 / 252, 6);
  });

  test("3 runs against 3 can never reach p < 0.05", () => {
    expect(smallestAchievableP(3, 3)).toBeCloseTo(0.1, 6);
    expect(mannWhitney([1, 2, 3], [10, 11, 12]).p).toBeCloseTo(0.1, 6);
  });

  test("ties use the normal approximation and identical samples give p = 1", () => {
    const r = mannWhitney([5, 5, 5, 5], [5, 5, 5, 5]);
    expect(r.method).toBe("normal");
    expect(r.p).toBe(1);
  });
});

describe("verdicts on synthetic data", () => {
  test("a known 10% slowdown is detected as worse, with its size", () => {
    const c = compareMetric("e2e.p99", noisy(10, 100), noisy(10, 110), { lowerIsBetter: true });
    expect(c.verdict).toBe("worse");
    expect(c.change).toBeGreaterThan(0.05);
    expect(c.change).toBeLessThan(0.15);
    expect(c.changeCi.low).toBeLessThan(c.change);
    expect(c.changeCi.high).toBeGreaterThan(c.change);
  });

  test("a 10% throughput gain is better (higher is better)", () => {
    expect(
      compareMetric("throughput", noisy(10, 100), noisy(10, 110), { lowerIsBetter: false }).verdict,
    ).toBe("better");
  });

  test("two samples from one distribution give no significant difference in at least 90% of trials", () => {
    let same = 0;
    for (let t = 0; t < 200; t++) {
      if (
        compareMetric("e2e.p50", noisy(5, 100, 0.1), noisy(5, 100, 0.1), { lowerIsBetter: true }).verdict ===
        "no significant difference"
      )
        same++;
    }
    expect(same / 200).toBeGreaterThanOrEqual(0.9);
  });

  test("the sensitivity report says 3 vs 3 cannot decide and 5 vs 5 detects a shift ~3× the noise", () => {
    expect(sensitivity(3, 3, 0.05).canReachAlpha).toBe(false);
    const s = sensitivity(5, 5, 0.03);
    expect(s.canReachAlpha).toBe(true);
    expect(s.detectableShift).toBeGreaterThanOrEqual(0.03);
    expect(s.detectableShift).toBeLessThanOrEqual(0.15);
  });

  test("quantile interpolates like NumPy", () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10], 0.99)).toBe(10);
  });
});

describe("the comparative gate", () => {
  const worse = compareMetric("e2e.p99", noisy(10, 100), noisy(10, 120), { lowerIsBetter: true });
  const same = compareMetric("ack.p99", noisy(10, 100), noisy(10, 100), { lowerIsBetter: true });

  test("fails on a significant slowdown beyond the bound, passes within it", () => {
    expect(evaluateGate([parseGateRule("e2e.p99 worse by >10%")], [worse])[0]!.failed).toBe(true);
    expect(evaluateGate([parseGateRule("e2e.p99 worse by >40%")], [worse])[0]!.failed).toBe(false);
  });

  test("noise never fails the gate", () => {
    expect(evaluateGate([parseGateRule("ack.p99 worse")], [same])[0]!.failed).toBe(false);
  });

  test("a malformed rule or unknown metric is a usage error", () => {
    expect(() => parseGateRule("e2e.p99 slower than 10")).toThrow(/expected "<metric> worse"/);
    expect(() => evaluateGate([parseGateRule("nope worse")], [same])).toThrow(/no metric nope/);
  });
});
