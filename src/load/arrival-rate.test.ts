import { expect, test } from "vitest";
import { arrivalSchedule } from "./arrival-rate.js";
import { normalizeModel, parseRamp, scheduledCount } from "./model.js";

test("a constant rate schedules operations evenly from t = 0, computed from k so nothing drifts", () => {
  const at = arrivalSchedule([{ from: 200, to: 200, durationMs: 1000 }]);
  expect(at(0)).toBe(0);
  expect(at(1)).toBeCloseTo(5);
  expect(at(199)).toBeCloseTo(995);
  expect(at(200)).toBeUndefined();
});

test("a ramp from 0 to 100/s over 2 s schedules 100 operations, denser towards the end", () => {
  const model = parseRamp("100:2s");
  expect(model.kind).toBe("open");
  if (model.kind !== "open") return;
  expect(scheduledCount(model)).toBe(100);
  const at = arrivalSchedule(model.stages);
  const times = Array.from({ length: 100 }, (_, k) => at(k) ?? Number.NaN);
  expect(times.every((t) => Number.isFinite(t))).toBe(true);
  expect(at(100)).toBeUndefined();
  // N(t) = 25 t² → the 25th operation is due at t = 1 s.
  expect(times[25]).toBeCloseTo(1000, 0);
  expect((times[99] ?? 0) - (times[98] ?? 0)).toBeLessThan((times[2] ?? 0) - (times[1] ?? 0));
});

test("a hold at zero rate schedules nothing and ends the schedule", () => {
  const m = normalizeModel({
    kind: "ramping-arrival-rate",
    startRate: 10,
    stages: [
      { target: 10, duration: "1s" },
      { target: 0, duration: 0 },
      { target: 0, duration: "5s" },
    ],
  });
  if (m.kind !== "open") throw new Error("open model expected");
  const at = arrivalSchedule(m.stages);
  expect(at(9)).toBeCloseTo(900);
  expect(at(10)).toBeUndefined();
});
