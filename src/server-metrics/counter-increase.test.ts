import { describe, expect, test } from "vitest";
import { counterIncrease } from "./counter-increase.js";

describe("a counter's growth over a run's window, exactly", () => {
  test("from the first sample after the start to the first after the end, whatever came before", () => {
    const s: Array<[number, number]> = [
      [8, 40],
      [9, 50],
      [10, 50],
      [11, 70],
      [12, 90],
      [13, 95],
    ];
    expect(counterIncrease(s, 9.5, 12)).toBe(40);
  });

  test("a restart inside the window (the value drops) adds what was counted after it", () => {
    const s: Array<[number, number]> = [
      [1, 100],
      [2, 100],
      [3, 130],
      [4, 5],
      [5, 20],
    ];
    expect(counterIncrease(s, 2, 5)).toBe(30 + 20);
  });

  test("a labelled series born inside the window counts from zero", () => {
    expect(
      counterIncrease(
        [
          [3, 4],
          [4, 9],
        ],
        2,
        4,
      ),
    ).toBe(9);
  });

  test("not scraped after the end: no answer rather than a short one", () => {
    expect(
      counterIncrease(
        [
          [1, 1],
          [2, 2],
        ],
        1.5,
        3,
      ),
    ).toBeUndefined();
  });
});
