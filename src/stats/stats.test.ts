import { describe, expect, test } from "vitest";
import { bootstrapChange } from "./bootstrap.js";
import type { Bound, MetricUnit } from "./effect.js";
import { formatChange, formatP } from "./format.js";
import { evaluateGate, parseGateRule } from "./gate.js";
import { mannWhitney, smallestAchievableP } from "./mann-whitney.js";
import { normal, seededRandom } from "./random.js";
import { quantile } from "./summary.js";
import { compareMetric, sensitivity } from "./verdict.js";

const random = seededRandom(7);
const noisy = (n: number, center: number, spread = 0.03) =>
  Array.from({ length: n }, () => center * (1 + spread * normal(random)));

const latency = { lowerIsBetter: true, unit: "ms" as MetricUnit, minEffect: rel(5) };
const rate = { lowerIsBetter: true, unit: "ratio" as MetricUnit, minEffect: pp(0.1) };
function rel(pct: number): Bound {
  return { kind: "relative", value: pct / 100, text: `${pct}%` };
}
function pp(points: number): Bound {
  return { kind: "absolute", value: points / 100, text: `${points}pp` };
}
const units: Record<string, MetricUnit> = {
  "e2e.p99": "ms",
  "ack.p99": "ms",
  throughput: "msg/s",
  loss: "ratio",
  errors: "ratio",
};

// Reference p-values computed independently with SciPy 1.17.1:
//   exact: scipy.stats.permutation_test(rank-sum, permutation_type="independent", n_resamples=inf)
//   normal: scipy.stats.mannwhitneyu(method="asymptotic", use_continuity=True)
describe("Mann-Whitney U against SciPy", () => {
  test("complete separation, 5 vs 5: p = 2/252 (exact)", () => {
    expect(mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).p).toBeCloseTo(0.007936507936507936, 10);
  });

  test("3 vs 3 with ties uses the exact conditional distribution: p = 0.100, not the normal 0.047", () => {
    const r = mannWhitney([100, 100, 100], [120, 120, 120]);
    expect(r.method).toBe("exact");
    expect(r.p).toBeCloseTo(0.1, 10);
  });

  test("ties inside and across samples (5 vs 5): p = 0.21428571", () => {
    expect(mannWhitney([10, 20, 20, 30, 40], [20, 30, 30, 50, 60]).p).toBeCloseTo(0.21428571428571427, 10);
  });

  test("HDR-quantised percentiles that tie (5 vs 5): p = 0.19047619", () => {
    const a = [57.12, 57.15, 57.12, 58.0, 57.15];
    const b = [57.15, 58.0, 58.0, 59.1, 57.15];
    expect(mannWhitney(a, b).p).toBeCloseTo(0.19047619047619047, 10);
  });

  test("no ties, 7 vs 6: p = 0.03496503", () => {
    const r = mannWhitney([3.1, 4.7, 2.2, 5.9, 6.1, 1.8, 4.4], [5.5, 6.6, 7.2, 3.9, 8.8, 6.9]);
    expect(r.p).toBeCloseTo(0.03496503496503497, 10);
  });

  test("30 vs 30 with ties uses the normal approximation: p = 0.0284239 (to 1e-6)", () => {
    const a = [
      120, 74, 104, 94, 95, 98, 80, 98, 91, 133, 102, 96, 97, 93, 89, 96, 105, 98, 110, 98, 100, 115,
    ];
    a.push(105, 95, 98, 105, 119, 97, 98, 110);
    const b = [97, 103, 115, 112, 107, 113, 78, 116, 96, 89, 109, 113, 102, 95, 106, 105, 120, 113, 108, 117];
    b.push(104, 97, 112, 112, 104, 98, 108, 81, 113, 111);
    const r = mannWhitney(a, b);
    expect(r.method).toBe("normal");
    expect(r.p).toBeCloseTo(0.028423913007406917, 6);
  });

  test("identical samples give p = 1; 3 vs 3 can never reach p < 0.05", () => {
    expect(mannWhitney([5, 5, 5, 5], [5, 5, 5, 5]).p).toBe(1);
    expect(smallestAchievableP(3, 3)).toBeCloseTo(0.1, 10);
  });
});

describe("verdicts", () => {
  test("a known 10% slowdown is worse, with its size and an interval around it", () => {
    const c = compareMetric("e2e.p99", noisy(10, 100), noisy(10, 110), latency);
    expect(c.verdict).toBe("worse");
    expect(c.change).toBeGreaterThan(0.05);
    expect(c.change).toBeLessThan(0.15);
    expect(c.changeCi?.low).toBeLessThan(c.change ?? 0);
    expect(c.changeCi?.high).toBeGreaterThan(c.change ?? 0);
  });

  test("3 vs 3 with ties reaches no verdict, so the gate cannot fail on it", () => {
    const c = compareMetric("e2e.p99", [100, 100, 100], [120, 120, 120], latency);
    expect(c.verdict).toBe("no significant difference");
    expect(evaluateGate([parseGateRule("e2e.p99 worse", units)], [c])[0]?.failed).toBe(false);
  });

  test("a significant change below the minimum effect is no meaningful difference (−0.5% throughput)", () => {
    const base = [39.98, 39.97, 39.99, 39.98, 39.98];
    const cand = [39.79, 39.78, 39.8, 39.79, 39.77];
    const c = compareMetric("throughput", base, cand, {
      lowerIsBetter: false,
      unit: "msg/s",
      minEffect: rel(1),
    });
    expect(c.p).toBeLessThan(0.05);
    expect(c.verdict).toBe("no meaningful difference");
  });

  test("two samples from one distribution give no difference in at least 90% of trials", () => {
    let same = 0;
    for (let t = 0; t < 100; t++) {
      const v = compareMetric("e2e.p50", noisy(5, 100, 0.1), noisy(5, 100, 0.1), latency).verdict;
      if (v !== "worse" && v !== "better") same++;
    }
    expect(same / 100).toBeGreaterThanOrEqual(0.9);
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

describe("a baseline of 0 (healthy loss and errors)", () => {
  const none = [0, 0, 0, 0, 0];
  const fivePercent = [0.05, 0.05, 0.05, 0.05, 0.05];

  test("0 → 5% loss in every run is worse by +5pp with a finite absolute interval and no relative one", () => {
    const c = compareMetric("loss", none, fivePercent, rate);
    expect(c.verdict).toBe("worse");
    expect(c.p).toBeCloseTo(0.007936507936507936, 10);
    expect(c.change).toBeNull();
    expect(c.changeCi).toBeNull();
    expect(c.absoluteChange).toBeCloseTo(0.05, 12);
    expect(c.absoluteChangeCi).toEqual({ low: 0.05, high: 0.05 });
    expect(formatChange(c)).toBe("+5pp");
    // The comparison must survive a JSON round trip (a NaN would come back as null).
    expect(JSON.parse(JSON.stringify(c))).toEqual(c);
  });

  test("the relative bootstrap interval is null, not NaN, when the baseline median is 0", () => {
    expect(bootstrapChange(none, fivePercent).relative).toBeNull();
  });

  test("'loss worse' and 'loss worse by >0.1pp' fail; 'loss worse by >10pp' does not", () => {
    const c = compareMetric("loss", none, fivePercent, rate);
    const gate = (rule: string) => evaluateGate([parseGateRule(rule, units)], [c])[0];
    expect(gate("loss worse")?.failed).toBe(true);
    expect(gate("loss worse by >0.1pp")?.failed).toBe(true);
    expect(gate("loss worse by >0.1pp")?.detail).toBe("loss: worse (+5pp, p=0.008) — exceeds 0.1pp");
    expect(gate("loss worse by >10pp")?.failed).toBe(false);
    expect(gate("loss worse by >10%")?.failed).toBe(true); // any rise from 0 is an infinite relative change
  });
});

describe("the comparative gate", () => {
  const worse = compareMetric("e2e.p99", noisy(10, 100), noisy(10, 120), latency);
  const same = compareMetric("ack.p99", noisy(10, 100), noisy(10, 100), latency);

  test("fails on a significant slowdown beyond the bound, passes within it", () => {
    expect(evaluateGate([parseGateRule("e2e.p99 worse by >10%", units)], [worse])[0]?.failed).toBe(true);
    expect(evaluateGate([parseGateRule("e2e.p99 worse by >40%", units)], [worse])[0]?.failed).toBe(false);
    expect(evaluateGate([parseGateRule("e2e.p99 worse by >5ms", units)], [worse])[0]?.failed).toBe(true);
  });

  test("a bound below the minimum effect still fails a significant regression beyond it", () => {
    const small = compareMetric(
      "e2e.p99",
      [100, 100.5, 101, 100.2, 100.7],
      [103, 103.2, 103.4, 103.1, 103.3],
      latency,
    );
    expect(small.verdict).toBe("no meaningful difference");
    expect(evaluateGate([parseGateRule("e2e.p99 worse", units)], [small])[0]?.failed).toBe(false);
    expect(evaluateGate([parseGateRule("e2e.p99 worse by >2%", units)], [small])[0]?.failed).toBe(true);
  });

  test("the bound prints as written", () => {
    const outcome = evaluateGate([parseGateRule("e2e.p99 worse by >2.5%", units)], [worse])[0];
    expect(outcome?.detail).toMatch(/exceeds 2\.5%$/);
  });

  test("noise never fails the gate", () => {
    expect(evaluateGate([parseGateRule("ack.p99 worse", units)], [same])[0]?.failed).toBe(false);
  });

  test("malformed rules, unknown metrics and wrong units are usage errors before anything runs", () => {
    expect(() => parseGateRule("e2e.p99 slower than 10", units)).toThrow(/expected "<metric> worse"/);
    expect(() => parseGateRule("lost worse", units)).toThrow(/no metric lost \(have: e2e\.p99/);
    expect(() => parseGateRule("e2e.p99 worse by >1pp", units)).toThrow(
      /pp \(percentage points\) applies to rates/,
    );
    expect(() => parseGateRule("loss worse by >1", units)).toThrow(/say the unit/);
  });

  test("p prints as <0.001 rather than 0.000", () => {
    expect(formatP(0.0001)).toBe("<0.001");
    expect(formatP(0.0123)).toBe("0.012");
  });
});
